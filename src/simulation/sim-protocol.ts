/*
 * The messages between a simulated client and the simulated server, after ZooKeeper's wire
 * protocol: a connect handshake, requests answered in order, and watch notifications.
 */
import type { ZkCreateMode } from '../zk/zk-session.js';
import type { ZkOp } from '../zk/zk-transaction.js';
import type { ZkWatchEvent } from '../zk/zk-watch-event.js';

/** A request, as the client library would send it. */
export type SimRequest =
  | { op: 'create'; path: string; data: Buffer; mode: ZkCreateMode }
  | { op: 'delete'; path: string; version: number }
  | { op: 'setData'; path: string; data: Buffer; version: number }
  | { op: 'getData' | 'exists' | 'getChildren'; path: string; watch: boolean }
  | { op: 'multi'; ops: readonly ZkOp[] }
  | { op: 'setWatches'; relativeZxid: bigint; data: string[]; exist: string[]; child: string[] }
  | { op: 'ping' }
  | { op: 'closeSession' };

/** A znode's full stat, as the server keeps it. */
export interface SimNodeStat {
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** 0n when the node is persistent. */
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
}

/** One result of a multi: ZooKeeper reports an error per op when the multi fails. */
export interface SimMultiResult {
  type: ZkOp['type'] | 'error';
  /** For `error`: 0 for the ops before the failed one, its code for it, -2 (RuntimeInconsistency) after. */
  err?: number;
  path?: string;
  stat?: SimNodeStat;
}

/** The answer to one request. `err` is ZooKeeper's code (0 ok). */
export interface SimReply {
  xid: number;
  /** The zxid of the request's transaction (writes), or the last one applied (reads, pings). */
  zxid: bigint;
  err: number;
  path?: string;
  stat?: SimNodeStat | null;
  data?: Buffer;
  children?: string[];
  results?: SimMultiResult[];
}

export type SimClientMessage =
  | { kind: 'connect'; sessionId: bigint; timeoutMs: number; lastZxid: bigint }
  | { kind: 'request'; xid: number; request: SimRequest; bytes: number };

export type SimServerMessage =
  /** The handshake's answer; `timeoutMs` 0 means the session is expired (or unknown). */
  | { kind: 'connected'; sessionId: bigint; timeoutMs: number }
  | { kind: 'reply'; reply: SimReply }
  | { kind: 'event'; type: ZkWatchEvent['type']; path: string };

/** The ping and set-watches xids of ZooKeeper's protocol; other requests count up from 1. */
export const PING_XID = -2;
export const SET_WATCHES_XID = -8;
