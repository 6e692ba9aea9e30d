import { escapeLabelValue } from './label-value.js';

/**
 * One gauge by job (`zkshard_job`), written in Prometheus' text format as prom-client writes a
 * gauge, without prom-client: its `Gauge` keeps a value object per label set, hashed from a label
 * object on every `set`, and writes each through a label string made anew at every scrape. A
 * 1,000-job worker's gauges by job made about 3.5 MB of garbage a scrape that way, enough, scraped
 * every 15 s, to keep an idle worker from ever giving its memory back (see `JobRunMetrics` too).
 */
export class JobGauge {
  private readonly values = new Map<string, number>();
  /** Each job's series name with its label, made once: `name{zkshard_job="…"}`. */
  private readonly series = new Map<string, string>();

  constructor(readonly spec: { readonly name: string; readonly help: string }) {}

  set(job: string, value: number): void {
    this.values.set(job, value);
  }

  /** The gauge's series are exactly `values` from now on (a gauge read from the worker at scrape time). */
  replace(values: Iterable<readonly [string, number]>): void {
    this.values.clear();
    for (const [job, value] of values) this.values.set(job, value);
  }

  /** Its family in the text format: HELP, TYPE, a series per job set. */
  text(): string {
    const { name, help } = this.spec;
    let out = `# HELP ${name} ${help}\n# TYPE ${name} gauge`;
    for (const [job, value] of this.values) {
      let series = this.series.get(job);
      if (series === undefined) this.series.set(job, (series = `${name}{zkshard_job="${escapeLabelValue(job)}"}`));
      out += `\n${series} ${value}`;
    }
    return out;
  }
}
