import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAILOVERS, FIRES_MISSED, FIRES_SKIPPED, RUN_DURATION, RUNS_FINISHED, RUNS_STARTED } from '../../src/observability/job-run-metrics.js';
import { ASSIGNMENT_GENERATION, FIRE_LATENESS, ITEMS_OWNED, ITEMS_RUNNING, ITEMS_STALLED, JOB_CODE_MISMATCH } from '../../src/observability/worker-metrics.js';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8');

/** prom-client's Node process defaults (`collectDefaultMetrics`) the dashboard may use. */
const NODE_DEFAULTS = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'];

interface Target {
  expr?: string;
}
interface Panel {
  type?: string;
  title?: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
}
interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

/** The metrics `worker-metrics.ts` defines: `new Counter|Gauge|Histogram|Summary({ name: '...' })`. */
function definedMetrics(source: string): { name: string; type: string }[] {
  return [...source.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name: '(zkshard_[a-z0-9_]+)'/g)].map((m) => ({ type: m[1]!, name: m[2]! }));
}

/** Series names Prometheus stores for a metric (a histogram's base name has no series). */
function seriesNames({ name, type }: { name: string; type: string }): string[] {
  if (type === 'Histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'Summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/**
 * Metric names a PromQL expression selects: identifiers left once strings, label matchers, ranges,
 * label lists and Grafana variables are removed, minus function calls and keywords.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])[A-Za-z_:][\w:]*/g)) {
    const word = m[0];
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\s*\(/.test(stripped.slice(m.index + word.length))) continue; // a function call
    names.add(word);
  }
  return [...names];
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const source = read('src/observability/worker-metrics.ts');
/** Written outside prom-client's registry (`JobRunMetrics`, the lateness `BucketCounts`, the `JobGauge`s), with the registry's. */
const jobRunMetrics = [
  ...[ITEMS_OWNED, ITEMS_RUNNING, ITEMS_STALLED, ASSIGNMENT_GENERATION, JOB_CODE_MISMATCH].map(({ name }) => ({ name, type: 'Gauge' })),
  { name: RUNS_STARTED.name, type: 'Counter' },
  { name: FIRES_SKIPPED.name, type: 'Counter' },
  { name: FIRES_MISSED.name, type: 'Counter' },
  { name: FAILOVERS.name, type: 'Counter' },
  { name: RUNS_FINISHED.name, type: 'Counter' },
  { name: RUN_DURATION.name, type: 'Histogram' },
  { name: FIRE_LATENESS.name, type: 'Histogram' },
];
const defined = [...definedMetrics(source), ...jobRunMetrics];
const allowed = new Set([...defined.flatMap(seriesNames), ...NODE_DEFAULTS]);
const dashboard = JSON.parse(read('config/grafana-dashboard.json')) as Dashboard;
const panels = allPanels(dashboard.panels);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

describe('metricNames', () => {
  it('finds the metrics of an expression and nothing else', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{job=~"$job",x="b c"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNames('(sum by (job) (rate(a_total{outcome=~"failed"}[5m])) or 0 * b) / on (job) group_left c > bool 1e3')).toEqual(['a_total', 'b', 'c']);
    expect(metricNames('count by (state) (s == 1) or vector(0) unless d offset 15m')).toEqual(['s', 'd']);
    expect(metricNames('max by (job) (g) - on (job) group_right g')).toEqual(['g']);
  });
});

describe('worker-metrics.ts', () => {
  it('yields a name for every metric it defines', () => {
    expect(definedMetrics(source).length).toBe([...source.matchAll(/new (Counter|Gauge|Histogram|Summary)\(/g)].length);
    expect(defined.map((m) => m.name)).toContain('zkshard_runs_started_total');
    expect(defined.map((m) => m.name)).toContain('zkshard_fire_lateness_seconds');
    expect(defined.filter((m) => m.type === 'Histogram').map((m) => m.name)).toContain('zkshard_run_duration_seconds');
  });
});

describe('config/grafana-dashboard.json', () => {
  it('is a dashboard with the data source and job variables', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.get('DS_PROMETHEUS')?.type).toBe('datasource');
    const job = vars.get('job');
    expect(job?.type).toBe('query');
    const query = typeof job?.query === 'string' ? job.query : job?.query?.query;
    expect(query).toBe('label_values(zkshard_runs_started_total, zkshard_job)');
  });

  it('gives every panel a title and at least one target with an expression', () => {
    expect(panels.length).toBeGreaterThan(0);
    for (const p of panels) {
      expect(p.title?.trim(), JSON.stringify(p).slice(0, 120)).toBeTruthy();
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.expr?.trim(), p.title).toBeTruthy();
    }
  });

  it('uses only metrics that worker-metrics.ts defines or the Node process defaults', () => {
    const used = new Set(exprs.flatMap((e) => metricNames(e.expr)));
    expect(used).toContain('zkshard_run_duration_seconds_bucket');
    const unknown = exprs.flatMap(({ panel, expr }) => metricNames(expr).filter((n) => !allowed.has(n)).map((n) => `${panel}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('uses only known metrics in its variable queries', () => {
    for (const v of dashboard.templating.list) {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      for (const m of query.matchAll(/label_values\(\s*([A-Za-z_:][\w:]*)/g)) expect(allowed, v.name).toContain(m[1]);
    }
  });
});

describe('docs/METRICS.md', () => {
  it('mentions every zkshard metric worker-metrics.ts defines', () => {
    const doc = read('docs/METRICS.md');
    const missing = defined.filter(({ name }) => !new RegExp(`(?<![\\w])${name}(?![\\w])`).test(doc)).map((m) => m.name);
    expect(missing).toEqual([]);
  });
});
