import { ms } from '../lib/stats.js';
import type { BenchTable } from '../lib/table.js';
import type { TargetCheck } from '../lib/scenario.js';
import type { AllocationTiming } from './allocation-timing.js';
import type { EventFigures, EventKind } from './rebalance-event.js';

/** The setup the figures were measured with. */
export interface RebalanceSetup {
  workers: number;
  jobs: number;
  itemsPerJob: number;
  periodS: number;
}

const count = (n: number): string => n.toLocaleString('en-US');
const max = (values: readonly number[]): number => (values.length === 0 || values.some(Number.isNaN) ? Number.NaN : Math.max(...values));
const p50 = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.ceil(s.length / 2) - 1]!;
};

/** One row per leave/join. */
export function eventsTable(setup: RebalanceSetup, events: readonly EventFigures[]): BenchTable {
  return {
    title: `Leave and join: ${count(setup.jobs * setup.itemsPerJob)} items (${setup.jobs} jobs × ${setup.itemsPerJob}) over ${setup.workers} workers, every item firing every ${setup.periodS} s; ms from shutdown()/start()`,
    columns: ['event', 'workers', 'items moved', 'minimum', 'member change', 'assigned', 'seen', 'running', 'handoff delay p50', 'handoff delay max', 'unmoved lateness p99', 'loop stall max', 'fires lost', 'fires run twice', 'shutdown/start'],
    rows: events.map((e) => [
      `${e.kind} ${e.worker}`,
      `${e.workersBefore} → ${e.workersAfter}`,
      count(e.moved),
      count(e.required),
      ms(e.memberChangeMs),
      ms(e.assignedMs),
      ms(e.seenMs),
      e.notRun > 0 ? `${e.notRun} never ran` : ms(e.runningMs),
      ms(e.handoffLatenessMs.p50),
      ms(e.handoffLatenessMs.max),
      ms(e.unmovedLatenessMs.p99),
      ms(e.loopStallMaxMs),
      e.lostFires,
      e.doubleRuns,
      ms(e.actionMs),
    ]),
  };
}

/** p50/max per kind of event. */
export function summaryTable(events: readonly EventFigures[]): BenchTable {
  const kinds: EventKind[] = ['leave', 'join'];
  return {
    title: 'Leave and join, summary (ms)',
    columns: ['event', 'count', 'at minimum', 'assigned p50', 'assigned max', 'seen max', 'running p50', 'running max', 'handoff delay max'],
    rows: kinds
      .map((kind) => events.filter((e) => e.kind === kind))
      .filter((list) => list.length > 0)
      .map((list) => [
        list[0]!.kind,
        list.length,
        `${list.filter((e) => e.moved === e.required).length}/${list.length}`,
        ms(p50(list.map((e) => e.assignedMs))),
        ms(max(list.map((e) => e.assignedMs))),
        ms(max(list.map((e) => e.seenMs))),
        ms(p50(list.map((e) => e.runningMs))),
        ms(max(list.map((e) => e.runningMs))),
        ms(max(list.map((e) => e.handoffLatenessMs.max))),
      ]),
  };
}

/** One row per allocation case. */
export function allocationTable(timings: readonly AllocationTiming[]): BenchTable {
  return {
    title: "Allocation: allocate('sticky', …), pure, one call (ms)",
    columns: ['items', 'workers', 'case', 'p50', 'max', 'runs', 'items moved', 'minimum', 'items per worker'],
    rows: timings.map((t) => [
      count(t.items),
      t.case === 'fresh' ? String(t.workersAfter) : `${t.workersBefore} → ${t.workersAfter}`,
      t.case,
      ms(t.durationMs.p50),
      ms(t.durationMs.max),
      t.durationMs.count,
      count(t.changed),
      count(t.required),
      `${t.minLoad}–${t.maxLoad}`,
    ]),
  };
}

/** The PRODUCT.md §5 rebalance targets. */
export function rebalanceTargets(setup: RebalanceSetup, events: readonly EventFigures[], timings: readonly AllocationTiming[]): TargetCheck[] {
  const items = count(setup.jobs * setup.itemsPerJob);
  const atMin = events.filter((e) => e.moved === e.required).length;
  const allocAtMin = timings.filter((t) => t.changed === t.required).length;
  const assigned = max(events.map((e) => e.assignedMs));
  const handoff = max(events.map((e) => (e.notRun > 0 ? Number.NaN : e.handoffLatenessMs.max)));
  const big = timings.filter((t) => t.items >= 100_000);
  const bigMax = max(big.map((t) => t.durationMs.max));
  return [
    {
      what: 'only the items that must move move (leave/join in ZooKeeper; pure allocation)',
      target: 'moved = minimum',
      measured: `${atMin}/${events.length} events at the minimum (moved ${events.map((e) => e.moved).join(', ')}; minimum ${events.map((e) => e.required).join(', ')}); allocation ${allocAtMin}/${timings.length} cases`,
      met: events.length > 0 && atMin === events.length && allocAtMin === timings.length,
    },
    {
      what: `${items} items / ${setup.workers} workers: every moved item assigned to its new owner in ZooKeeper, from shutdown()/start() (max over ${events.length} events)`,
      target: '< 1000 ms',
      measured: `${ms(assigned)} ms`,
      met: assigned < 1000,
    },
    {
      what: `${items} items / ${setup.workers} workers: every moved item's first due fire runs on its new owner (max delay past due or event start)`,
      target: '< 1000 ms',
      measured: Number.isNaN(handoff) ? 'some moved item never ran on its new owner' : `${ms(handoff)} ms`,
      met: handoff < 1000,
    },
    {
      what: `allocation of ${count(big[0]?.items ?? 0)} items over ${big[0]?.workersAfter ?? 0} workers (max of ${big.map((t) => t.case).join('/')}, ${big[0]?.durationMs.count ?? 0} runs each)`,
      target: '< 50 ms',
      measured: `max ${ms(bigMax)} ms (p50 ${big.map((t) => `${t.case} ${ms(t.durationMs.p50)}`).join(', ')} ms)`,
      met: big.length > 0 && bigMax < 50,
    },
  ];
}
