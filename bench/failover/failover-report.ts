import type { BenchTable } from '../lib/table.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import type { KillSample } from './kill-once.js';

/** A row "what | samples | p50 | p90 | p99 | max" of a summary. */
export function summaryRow(what: string, s: Summary): Array<string | number> {
  return [what, s.count, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
}

/** Where the time of SIGKILL failovers goes, stage by stage (ms). */
export interface FailoverBreakdown {
  /** Kill → the observer sees the member znode gone: ZooKeeper's session expiry (per kill). */
  memberGone: Summary;
  /** Member gone → the observer sees the last assignment without the killed member (per kill). */
  reassign: Summary;
  /** Kill → that last assignment seen (per kill). */
  reassigned: Summary;
  /** Assignment of the item's job seen → the item's handler entered on a survivor (per item). */
  takeover: Summary;
}

/** Summaries of each stage over all kills. */
export function failoverBreakdown(samples: readonly KillSample[]): FailoverBreakdown {
  const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
  return {
    memberGone: summarize(finite(samples.map((s) => s.memberGoneMs))),
    reassign: summarize(finite(samples.map((s) => s.reassignedMs - s.memberGoneMs))),
    reassigned: summarize(finite(samples.map((s) => s.reassignedMs))),
    takeover: summarize(finite(samples.flatMap((s) => s.recoveries.map((r) => r.takeoverMs)))),
  };
}

/** The two tables of the failover scenario. */
export function failoverTables(samples: readonly KillSample[], recovery: Summary, rerun: Summary, b: FailoverBreakdown): BenchTable[] {
  return [
    {
      title: 'Failover after SIGKILL of a worker mid-run (ms from the SIGKILL unless said)',
      columns: ['measure', 'samples', 'p50', 'p90', 'p99', 'max'],
      rows: [
        summaryRow('item runs again on a survivor (any attempt)', recovery),
        summaryRow('interrupted fire re-run (attempt ≥ 2)', rerun),
        summaryRow('killed member znode gone (session expiry, observer)', b.memberGone),
        summaryRow('assignments without the killed member (observer)', b.reassigned),
        summaryRow('stage: member gone → assignments without it', b.reassign),
        summaryRow('stage: assignment seen → item run on a survivor', b.takeover),
      ],
    },
    {
      title: 'Each kill (ms from the SIGKILL)',
      columns: ['#', 'victim', 'leader', 'items', 'member gone', 'reassigned', 'first run again', 'last run again', 're-runs', 'not run again'],
      rows: samples.map((s, i) => {
        const r = s.recoveries.map((x) => x.recoveryMs);
        return [
          i + 1,
          s.victim,
          s.wasLeader ? 'yes' : 'no',
          s.items,
          ms(s.memberGoneMs),
          ms(s.reassignedMs),
          ms(r.length ? Math.min(...r) : Number.NaN),
          ms(r.length ? Math.max(...r) : Number.NaN),
          s.recoveries.filter((x) => x.attempt >= 2).length,
          s.unrecovered.length,
        ];
      }),
    },
  ];
}
