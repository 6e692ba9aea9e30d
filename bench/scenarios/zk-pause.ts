import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { ms } from '../lib/stats.js';
import { measureLateness, type LatenessFigures, type LatenessOptions } from './lateness.js';

export interface ZkPauseOptions extends LatenessOptions {
  /** How far into the window the server is frozen, ms. */
  pauseAtMs: number;
  /** How long it stays frozen (SIGSTOP to SIGCONT), ms. */
  pauseMs: number;
}

export interface ZkPauseFigures extends ZkPauseOptions, LatenessFigures {
  /** When the server was frozen and resumed (epoch ms; NaN: not frozen, or not resumed). */
  pausedFrom: number;
  pausedTo: number;
}

/**
 * Every-second fires on a fleet whose ZooKeeper server is frozen (SIGSTOP) for `pauseMs` in the
 * middle of the window: the shape of a long collection pause of its JVM or a stalled fsync. A
 * pause shorter than the session's lease must cost lateness only: every fire runs, once.
 */
export async function measureZkPause(ctx: ScenarioContext, o: ZkPauseOptions): Promise<ZkPauseFigures> {
  let pausedFrom = Number.NaN;
  let pausedTo = Number.NaN;
  const figures = await measureLateness(ctx, o, {
    duringWindow: (zk, from) => {
      let resumeTimer: NodeJS.Timeout | undefined;
      const resume = () => {
        if (!zk.paused) return;
        zk.resume();
        pausedTo = Date.now();
      };
      const pauseTimer = setTimeout(() => {
        try {
          zk.pause();
        } catch (err) {
          ctx.log(`could not freeze ZooKeeper: ${(err as Error).message}`); // the figures say "not frozen"
          return;
        }
        pausedFrom = Date.now();
        resumeTimer = setTimeout(resume, o.pauseMs);
      }, from + o.pauseAtMs - Date.now());
      ctx.log(`ZooKeeper to be frozen for ${o.pauseMs} ms at +${o.pauseAtMs / 1000} s`);
      return () => {
        clearTimeout(pauseTimer);
        clearTimeout(resumeTimer);
        resume();
      };
    },
  });
  return { ...o, ...figures, pausedFrom, pausedTo };
}

/** ZooKeeper frozen for a period and a half under 1,000 jobs × 8 items every second. */
export const zkPause: Scenario = {
  name: 'zk-pause',
  summary: 'ZooKeeper frozen (SIGSTOP) for 1.5 s under 1,000 jobs × 8 items every second on 4 workers: every fire must still run, once',
  async run(ctx): Promise<ScenarioResult> {
    const o: ZkPauseOptions = ctx.quick
      ? { jobs: 100, items: 8, workers: 4, durationMs: 10_000, pauseAtMs: 4000, pauseMs: 1500 }
      : { jobs: 1000, items: 8, workers: 4, durationMs: 40_000, pauseAtMs: 15_000, pauseMs: 1500 };
    const f = await measureZkPause(ctx, o);
    const frozen = !Number.isFinite(f.pausedFrom) ? 'not frozen' : Number.isFinite(f.pausedTo) ? `${f.pausedTo - f.pausedFrom} ms` : 'not resumed';
    ctx.log(`${o.jobs} jobs, ZooKeeper frozen ${frozen}: ${f.runs} runs of ${f.expected}, ${f.misses} misses, ${f.duplicates} duplicates, max ${ms(f.lateness.max)} ms late`);
    return {
      scenario: 'zk-pause',
      params: { ...o, cron: '* * * * * *', handler: 'no-op (records entry time)' },
      tables: [
        {
          title: 'ZooKeeper frozen in the middle of the window: every fire of the window (handler entry − scheduled fire, ms)',
          columns: ['jobs × items', 'workers', 'window', 'frozen', 'fires due', 'runs', 'misses', 'duplicates', 'p50', 'p99', 'p99.9', 'max'],
          rows: [[`${f.jobs} × ${f.items}`, f.workers, `${f.durationMs / 1000} s`, frozen, f.expected, f.runs, f.misses, f.duplicates, ms(f.lateness.p50), ms(f.lateness.p99), ms(f.lateness.p999), ms(f.lateness.max)]],
        },
      ],
      targets: [
        { what: 'fires not run with ZooKeeper frozen for 1.5 s', target: '0', measured: `${f.misses} (frozen: ${frozen})`, met: f.misses === 0 && Number.isFinite(f.pausedFrom) },
        { what: 'runs of one fire beyond the first', target: '0', measured: String(f.duplicates), met: f.duplicates === 0 },
      ],
      data: { figures: f },
      notes: ['A pause shorter than the lease (two thirds of the 5 s session) costs lateness, not fires: the instant it falls on runs late, once.'],
    };
  },
};
