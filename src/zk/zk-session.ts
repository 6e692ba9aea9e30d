import type { SessionState } from './session-state.js';
import type { ZkStat } from './zk-stat.js';
import type { ZkWatcher } from './zk-watch-event.js';
import type { ZkOpResult, ZkTransaction } from './zk-transaction.js';

/** How a node is created: persistent or bound to the session, with or without a sequence suffix. */
export type ZkCreateMode = 'persistent' | 'ephemeral' | 'ephemeralSequential' | 'persistentSequential';

/**
 * What the protocol code (membership, election, leader, scheduler, executor, ledger) needs from one
 * ZooKeeper session. `ZkClient` implements it over a real server; the simulation's `SimZkClient`
 * implements it over a simulated one, with the same typed errors (`zk-errors.ts`), so that code
 * written against this interface cannot tell the two apart.
 *
 * One instance is one session: after `lost`, `expired` or `closed` it is dead.
 */
export interface ZkSession {
  /** Where the session connects, for messages (`host:port,.../chroot`; `sim:<process>` in the simulation). */
  readonly connectString: string;
  /** The ZooKeeper user the session authenticates as (`anonymous` without credentials). */
  readonly user: string;
  /** The session state (see `session-state.ts`). */
  readonly state: SessionState;
  /** Aborted when the session ends (lost, expired or closed); the reason is a `ZkError`. */
  readonly signal: AbortSignal;
  /** The session id as 16 hex digits ('' before the first connection). */
  readonly sessionId: string;
  /** The timeout the server granted (the requested one until connected). */
  readonly sessionTimeoutMs: number;
  /** How long without an answer before the session is declared lost. */
  readonly leaseMs: number;
  /** Largest request sent, in bytes; writers of many ops fill multis up to it. */
  readonly maxRequestBytes: number;

  /** Every state change, with the state before it. */
  on(event: 'state', listener: (state: SessionState, previous: SessionState) => void): this;
  off(event: 'state', listener: (state: SessionState, previous: SessionState) => void): this;

  /**
   * Resolves true once the session is usable again (connected or reconnected), false if it ends
   * or `timeoutMs` passes first.
   */
  waitLive(timeoutMs: number): Promise<boolean>;
  /** Whether the lease holds at this moment (runs the liveness check now). */
  holdsLease(): boolean;
  /** Ends the session (its ephemeral nodes go at once). Idempotent. */
  close(): Promise<void>;

  /** Creates a node; returns the created path (with the sequence suffix for sequential modes). Never retried. */
  create(path: string, data?: Buffer | string, mode?: ZkCreateMode): Promise<string>;
  /** Creates a persistent node unless it exists; true when this call created it. */
  createIfAbsent(path: string, data?: Buffer | string): Promise<boolean>;
  /** Creates every missing persistent node along `path`. */
  mkdirp(path: string): Promise<void>;
  getData(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat }>;
  /** Like `getData`, but resolves `null` when the node does not exist. */
  getDataIfExists(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat } | null>;
  /** The node's stat, or null; a watcher set here also fires on creation. */
  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | null>;
  /** The children's names, in no particular order. */
  getChildren(path: string, watcher?: ZkWatcher): Promise<string[]>;
  setData(path: string, data: Buffer | string, version?: number): Promise<ZkStat>;
  remove(path: string, version?: number): Promise<void>;
  /** A new multi, sized against this session's `maxRequestBytes`. */
  transaction(): ZkTransaction;
  /**
   * Commits a multi atomically. Rejects with `ZkTransactionError` naming the rejected operation
   * (`failedIndex`, -1 when the outcome is unknown: connection loss, timeout), or
   * `RequestTooLargeError` (nothing sent) when it is larger than `maxRequestBytes`.
   */
  commit(tx: ZkTransaction): Promise<ZkOpResult[]>;
}
