import type { FaultEvent, HistoryNote, RecordedNote, RunEvent, SessionEvent, StoreWrite } from '../../../chaos/chaos-records.js';

/** Synthetic chaos records for the checker tests: times are small numbers of ms. */

export const JOB = 'orders';

/** ISO fire time `s` seconds after 2026-01-01T00:00:00Z. */
export const fire = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
/** The same instant as `fire(s)`, in ms. */
export const fireMs = (s: number): number => Date.UTC(2026, 0, 1) + s * 1000;

export interface RunSpec {
  pid: number;
  worker?: string;
  job?: string;
  item?: number;
  fire?: string;
  attempt?: number;
  token: string;
  start: number;
  /** Terminal event time; omitted: no terminal event. */
  end?: number;
  ending?: 'end' | 'aborted' | 'failed';
  reason?: string;
}

/** The start event (and the terminal event, if `end` is given) of one run. */
export function run(spec: RunSpec): RunEvent[] {
  const base = {
    worker: spec.worker ?? `w${spec.pid}`, pid: spec.pid, job: spec.job ?? JOB, item: spec.item ?? 0,
    fire: spec.fire ?? fire(0), attempt: spec.attempt ?? 1, token: spec.token,
  };
  const events: RunEvent[] = [{ ...base, event: 'start', at: spec.start }];
  if (spec.end !== undefined) {
    events.push({ ...base, event: spec.ending ?? 'end', at: spec.end, ...(spec.reason === undefined ? {} : { reason: spec.reason }) });
  }
  return events;
}

/** A store write of the run described by `spec` (same job, item, fire, attempt, pid, token). */
export function write(spec: RunSpec, at: number, accepted = true, current: string | null = null): StoreWrite {
  return {
    key: `${spec.job ?? JOB}#${spec.item ?? 0}`, token: spec.token, worker: spec.worker ?? `w${spec.pid}`, pid: spec.pid,
    fire: spec.fire ?? fire(0), attempt: spec.attempt ?? 1, at, accepted, current,
  };
}

export function fault(kind: FaultEvent['fault'], pid: number | undefined, start: number, end: number): FaultEvent {
  return { fault: kind, target: pid === undefined ? 'zk*' : `w${pid}`, ...(pid === undefined ? {} : { pid }), start, end };
}

export function session(kind: SessionEvent['kind'], pid: number, at: number): SessionEvent {
  return { worker: `w${pid}`, pid, at, kind, ...(kind === 'joined' ? { member: `m-${pid}-${at}` } : {}) };
}

export function note(item: number, outcome: RecordedNote['outcome'], count: number, latestS: number, job = JOB): RecordedNote {
  return { job, item, outcome, count, latest: fire(latestS), at: fireMs(latestS) + 500 };
}

/**
 * A missed/skipped entry of item `item`'s history as ZooKeeper held it, as the run ledger writes it:
 * `count` fires ending at `latestS`, written by `worker` half a second later.
 */
export function historyNote(item: number, outcome: HistoryNote['outcome'], count: number, latestS: number, worker = 'w1', job = JOB): HistoryNote {
  const error = outcome === 'missed' ? `${count} fire(s) missed` : `${count} fire(s) skipped: the item was still running`;
  return { job, item, outcome, fireTime: fire(latestS), at: new Date(fireMs(latestS) + 500).toISOString(), error, worker, seenAt: fireMs(latestS) + 900 };
}
