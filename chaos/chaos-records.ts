import type { RecordedNote as LoggedNote } from '../src/executor/recorded-notes-log.js';
import type { WakeState } from './wake-check.js';

/**
 * What a chaos run records, as JSON lines; the checker (chaos/checker/) reads only these.
 * Times are ms since the epoch on this one machine (all processes share its clock).
 */

/** One line of a chaos handler's run log (one file per worker process). */
export interface RunEvent {
  event: 'start' | 'end' | 'aborted' | 'failed';
  worker: string;
  /** OS pid of the worker process. */
  pid: number;
  job: string;
  item: number;
  /** ISO fire time. */
  fire: string;
  attempt: number;
  /** Fencing token (decimal string, 64-bit). */
  token: string;
  /** ms since the epoch; for `start`, when the worker entered the handler (`ctx.startedAt`). */
  at: number;
  /** For `start`: the handler's own first reading of the clock (later than `at` if it was frozen between). */
  handlerAt?: number;
  /** For `aborted`: the abort reason code (e.g. LEASE_LOST, SHUTDOWN, RUN_TIMEOUT). */
  reason?: string;
}

/** One write a handler attempted on the fenced store, as the store saw it. */
export interface StoreWrite {
  /** `<job>#<item>` */
  key: string;
  token: string;
  worker: string;
  pid: number;
  fire: string;
  attempt: number;
  at: number;
  accepted: boolean;
  /** The largest token the store had for the key before this write. */
  current: string | null;
}

/** A worker's session-related log line (from its pino JSON log). */
export interface SessionEvent {
  worker: string;
  pid: number;
  at: number;
  /**
   * `joined`: registered as a new member (start or rejoin) — `member` set.
   * `lost`: the worker knew its lease was lost (session state lost/expired, or closed while not shutting down).
   */
  kind: 'joined' | 'lost';
  member?: string;
}

/** A missed/skipped note the run ledger wrote into an item's progress record (as its worker logged it), and when. */
export interface RecordedNote extends LoggedNote {
  at: number;
}

/**
 * A missed/skipped entry of an item's run history as ZooKeeper held it (`jobs/<job>/items/<n>/history`),
 * read by the harness's poll: it is in ZooKeeper whether or not the worker that wrote it heard the
 * answer. One record per distinct entry (job, item, outcome, fireTime, at, error).
 */
export interface HistoryNote {
  job: string;
  item: number;
  outcome: 'missed' | 'skipped';
  /** ISO time of the latest fire the entry stands for. */
  fireTime: string;
  /** ISO time the entry was written (its `at`). */
  at: string;
  /** The entry's text, `N fire(s) missed` / `N fire(s) skipped: …`. */
  error?: string;
  worker: string;
  /** When the harness first read it, ms. */
  seenAt: number;
}

/**
 * The kinds of fault the harness injects. Partitions (`NetworkLab`, packets dropped silently with
 * iptables inside a namespace; every process keeps running):
 * - `partition-worker`: a worker cut from every ZooKeeper server, both ways, past its session timeout;
 * - `partition-worker-in` / `partition-worker-out`: the same, one way (only what comes in, or only
 *   what goes out, is dropped);
 * - `partition-zk-leader`: the ZooKeeper leader cut from the other servers (clients still reach it);
 * - `partition-zk-minority`: one follower cut from the other servers.
 */
export type FaultKind =
  | 'sigkill' | 'sigstop' | 'sigterm' | 'zk-restart' | 'zk-outage'
  | 'partition-worker' | 'partition-worker-in' | 'partition-worker-out' | 'partition-zk-leader' | 'partition-zk-minority';

/** The partition faults that cut one worker off from ZooKeeper (its process keeps running). */
export const WORKER_PARTITIONS: readonly FaultKind[] = ['partition-worker', 'partition-worker-in', 'partition-worker-out'];

/** A fault the harness injected. */
export interface FaultEvent {
  fault: FaultKind;
  /** Worker id, or `zk<i>`, or `zk*`. */
  target: string;
  /** pid affected (workers). */
  pid?: number;
  start: number;
  /** When the fault was undone (SIGCONT, server back, worker restarted, partition healed). */
  end: number;
  /** A SIGSTOP's worker as read 2 s after its SIGCONT (set once read; undefined if it was gone). */
  afterWake?: WakeState;
}

/** A job as the chaos fleet runs it. */
export interface ChaosJob {
  name: string;
  /** 6-field cron, UTC. */
  cron: string;
  shards: number;
}
