import type { BenchTable } from '../lib/table.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import { summaryRow } from './failover-report.js';
import type { HandoffKind, HandoffSample, ItemHandoffTiming } from './handoff-once.js';

/** Figures of one variant (or of all handoffs together). */
export interface HandoffFigures {
  kind: HandoffKind | 'all';
  repetitions: number;
  /** Moved items measured. */
  items: number;
  /** New owner's first handler entry − max(release, its fire time), ms. */
  handoff: Summary;
  /** Lateness of the first fire the new owner ran (entry − scheduled fire), ms. */
  firstLateness: Summary;
  /** Trigger → the observer sees the item's new owner in the assignment, ms. */
  reassigned: Summary;
  /** Trigger → the new owner's log says it gained the item, ms. */
  owned: Summary;
  /** Trigger → release (the old owner's last run of the item ended; 0 when it ran none), ms. */
  release: Summary;
  /** Fires in [release − 2 s, first run on the new owner + 2 s] that never ran. */
  missed: number;
  /** Fires in that window entered twice at attempt 1. */
  duplicates: number;
  /** Moved items with no run on their new owner within 20 s. */
  notRun: number;
}

/** Summaries over the moved items of `samples` (one variant, or all). */
export function handoffFigures(kind: HandoffFigures['kind'], samples: readonly HandoffSample[]): HandoffFigures {
  const items: ItemHandoffTiming[] = samples.flatMap((s) => s.items);
  const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
  return {
    kind,
    repetitions: samples.length,
    items: items.length,
    handoff: summarize(finite(items.map((i) => i.handoffMs))),
    firstLateness: summarize(finite(items.map((i) => i.latenessMs))),
    reassigned: summarize(finite(items.map((i) => i.reassignedMs))),
    owned: summarize(finite(items.map((i) => i.ownedMs))),
    release: summarize(items.map((i) => i.releaseMs)),
    missed: items.reduce((n, i) => n + i.missedFires.length, 0),
    duplicates: items.reduce((n, i) => n + i.duplicates, 0),
    notRun: items.filter((i) => !i.first).length,
  };
}

/** The tables of the handoff scenario. */
export function handoffTables(byKind: readonly HandoffFigures[], samples: readonly HandoffSample[]): BenchTable[] {
  const label = (k: HandoffFigures['kind']) => (k === 'sigterm' ? 'SIGTERM' : k === 'drain' ? 'zkctl drain' : 'all');
  return [
    {
      title: 'Handoff: new owner\'s first run − max(release, its fire time) (ms), per moved item',
      columns: ['variant', 'reps', 'items', 'p50', 'p90', 'p99', 'max', 'first-fire lateness p99', 'missed fires', 'double runs', 'not run'],
      rows: byKind.map((f) => [label(f.kind), f.repetitions, f.items, ms(f.handoff.p50), ms(f.handoff.p90), ms(f.handoff.p99), ms(f.handoff.max), ms(f.firstLateness.p99), f.missed, f.duplicates, f.notRun]),
    },
    {
      title: 'Where the time goes (ms from the SIGTERM / drain request, per moved item)',
      columns: ['measure', 'samples', 'p50', 'p90', 'p99', 'max'],
      rows: byKind.flatMap((f) => [
        summaryRow(`${label(f.kind)}: release (old owner's last run ended)`, f.release),
        summaryRow(`${label(f.kind)}: new owner in the assignment (observer)`, f.reassigned),
        summaryRow(`${label(f.kind)}: new owner's log "owned items changed"`, f.owned),
        summaryRow(`${label(f.kind)}: lateness of the new owner's first fire`, f.firstLateness),
      ]),
    },
    {
      title: 'Each handoff',
      columns: ['#', 'variant', 'victim', 'leader', 'trigger at', 'items', 'waited for a run', 'done', 'handoff max', 'missed'],
      rows: samples.map((s, i) => [
        i + 1,
        label(s.kind),
        s.victim,
        s.wasLeader ? 'yes' : 'no',
        `+${s.phaseMs} ms`,
        s.items.length,
        s.items.filter((x) => x.runHeld).length,
        ms(s.doneMs),
        ms(Math.max(...s.items.map((x) => (Number.isFinite(x.handoffMs) ? x.handoffMs : Number.NaN)))),
        s.items.reduce((n, x) => n + x.missedFires.length, 0),
      ]),
    },
  ];
}

/** One line on the slowest handoff: where its time went (ms from the trigger). */
export function slowestHandoff(samples: readonly HandoffSample[]): string | undefined {
  let worst: { s: HandoffSample; i: ItemHandoffTiming } | undefined;
  for (const s of samples) for (const i of s.items) if (Number.isFinite(i.handoffMs) && (!worst || i.handoffMs > worst.i.handoffMs)) worst = { s, i };
  const first = worst?.i.first;
  if (!worst || !first) return undefined;
  const { s, i } = worst;
  const t = (at: number) => `+${ms(at - s.triggeredAt)} ms`;
  return `Slowest handoff: ${s.kind} of ${s.victim}${s.wasLeader ? ' (leader)' : ''} at +${s.phaseMs} ms into the second, item ${i.job}#${i.item} → ${i.to}: release ${t(i.releasedAt)}${i.runHeld ? ' (its last run ended)' : ' (no run in progress)'}, new owner in the assignment +${ms(i.reassignedMs)} ms, in its log +${ms(i.ownedMs)} ms, fire due ${t(first.fire)}, handler entered ${t(first.entry)}: ${ms(i.handoffMs)} ms.`;
}
