/*
 * ZooKeeper's multi request and reply (jute wire format), encoded and decoded directly. The client
 * library builds a record object per op and per field (an 8-byte Buffer for every long, a regular
 * expression per vector field, a copy of every setData's data) and sizes and writes the request
 * through them: at 8,000 runs a second that was most of a worker's garbage. The bytes are the
 * library's own (a test compares them).
 */
import type { ZkAcl } from './zk-acl.js';
import { aclBytes, MULTI_FIXED_BYTES, opBytes } from './multi-size.js';
import type { ZkOp } from './zk-op.js';
import type { ZkStat } from './zk-stat.js';

/** ZooKeeper op codes of a multi. */
export const OP = { create: 1, remove: 2, setData: 5, check: 13, multi: 14, error: -1 } as const;

/** Create flags of the modes a multi creates (ZooKeeper's CreateMode). */
const CREATE_FLAGS = { persistent: 0, ephemeral: 1 } as const;

/** Bytes of a multi header: op type (int32), done (bool), error (int32). */
const MULTI_HEADER = 9;
/** Bytes of a stat on the wire. */
export const STAT_BYTES = 68;

/** The ACL list every create carries, encoded once: vector length, then (perms, scheme, id) each. */
export function encodeAcl(acl: readonly ZkAcl[]): Buffer {
  const out = Buffer.alloc(aclBytes(acl));
  let at = out.writeInt32BE(acl.length, 0);
  for (const a of acl) {
    at = out.writeInt32BE(a.perms, at);
    at = writeString(out, a.scheme, at);
    at = writeString(out, a.id, at);
  }
  return out;
}

/**
 * The whole frame of a multi of `ops`: length, request header (xid 0: see `setXid`, type multi),
 * a multi header and the request of every op, the closing multi header. Paths get `chroot`
 * before them as the library puts it (`/` alone becomes the chroot). Expected versions are sent
 * as given (the library's own `version || -1` would turn 0 into "any version").
 */
export function encodeMulti(ops: readonly ZkOp[], acl: Buffer, chroot = ''): Buffer {
  // Sized as `ZkTransaction` sizes it (multi-size.ts), plus the frame's length prefix.
  const chrootBytes = Buffer.byteLength(chroot);
  let size = 4 + MULTI_FIXED_BYTES;
  for (const op of ops) size += opBytes(op, chrootBytes, acl.length);
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32BE(size - 4, 0);
  at = out.writeInt32BE(0, at);
  at = out.writeInt32BE(OP.multi, at);
  for (const op of ops) {
    at = writeMultiHeader(out, OP[op.type], false, at);
    at = writeString(out, wirePath(op.path, chroot), at);
    switch (op.type) {
      case 'create':
        at = writeData(out, op.data, at);
        at += acl.copy(out, at);
        at = out.writeInt32BE(CREATE_FLAGS[op.mode], at);
        break;
      case 'setData':
        at = writeData(out, op.data, at);
        at = out.writeInt32BE(op.version, at);
        break;
      case 'check':
      case 'remove':
        at = out.writeInt32BE(op.version, at);
        break;
    }
  }
  at = writeMultiHeader(out, -1, true, at);
  if (at !== size) throw new Error(`multi-codec: wrote ${at} bytes of ${size}`);
  return out;
}

/** Puts the xid the connection gives the request into a frame made by `encodeMulti`. */
export function setXid(frame: Buffer, xid: number): void {
  frame.writeInt32BE(xid, 4);
}

/** One op's reply in a multi's reply. */
export interface MultiResult {
  /** The op code (`OP`); `OP.error` for an op that failed or was not applied. */
  type: number;
  /** For a create: the path created (without the chroot). */
  path?: string;
  /** For a setData: the node's new stat. */
  stat?: ZkStat;
  /** For `OP.error`: ZooKeeper's error code (0: this op was fine, another failed; -2: not run). */
  err?: number;
}

/**
 * Decodes the body of a multi's reply (after the reply header) at `offset`: one result per op until
 * the closing header. Returns the results and the bytes read.
 */
export function decodeMultiReply(buffer: Buffer, offset: number, chroot = ''): { results: MultiResult[]; bytes: number } {
  const results: MultiResult[] = [];
  let at = offset;
  for (;;) {
    const type = buffer.readInt32BE(at);
    const done = buffer[at + 4] !== 0;
    at += MULTI_HEADER;
    if (done) break;
    switch (type) {
      case OP.create: {
        const length = buffer.readInt32BE(at);
        at += 4;
        let path: string | undefined;
        if (length >= 0) {
          path = buffer.toString('utf8', at, at + length);
          at += length;
          if (chroot) path = path === chroot ? '/' : path.startsWith(chroot) ? path.slice(chroot.length) : path;
        }
        results.push({ type, path });
        break;
      }
      case OP.setData:
        results.push({ type, stat: decodeStat(buffer, at) });
        at += STAT_BYTES;
        break;
      case OP.remove:
      case OP.check:
        results.push({ type });
        break;
      case OP.error:
        results.push({ type, err: buffer.readInt32BE(at) });
        at += 4;
        break;
      default:
        throw new Error(`Unknown type: ${type} in transaction response.`);
    }
  }
  return { results, bytes: at - offset };
}

/** A stat on the wire (jute `Stat`) at `at`. */
export function decodeStat(buffer: Buffer, at: number): ZkStat {
  const owner = buffer.readBigInt64BE(at + 44);
  return {
    czxid: buffer.readBigInt64BE(at),
    mzxid: buffer.readBigInt64BE(at + 8),
    ctime: readLongNumber(buffer, at + 16),
    mtime: readLongNumber(buffer, at + 24),
    version: buffer.readInt32BE(at + 32),
    cversion: buffer.readInt32BE(at + 36),
    aversion: buffer.readInt32BE(at + 40),
    ephemeralOwner: owner === 0n ? null : buffer.toString('hex', at + 44, at + 52),
    dataLength: buffer.readInt32BE(at + 52),
    numChildren: buffer.readInt32BE(at + 56),
    // (pzxid, at + 60..68, is not kept: ZkStat has no field for it)
  };
}

/** A signed 64-bit value that fits a double exactly (ZooKeeper's ms timestamps). */
function readLongNumber(buffer: Buffer, at: number): number {
  return buffer.readInt32BE(at) * 2 ** 32 + buffer.readUInt32BE(at + 4);
}

function wirePath(path: string, chroot: string): string {
  if (!chroot) return path;
  return path === '/' ? chroot : chroot + path;
}

function writeString(out: Buffer, value: string, at: number): number {
  const length = out.write(value, at + 4, 'utf8');
  out.writeInt32BE(length, at);
  return at + 4 + length;
}

/** A buffer field; absent data is length -1, as the library writes it. */
function writeData(out: Buffer, data: Buffer | undefined, at: number): number {
  if (!data) return out.writeInt32BE(-1, at);
  at = out.writeInt32BE(data.length, at);
  return at + data.copy(out, at);
}

function writeMultiHeader(out: Buffer, type: number, done: boolean, at: number): number {
  at = out.writeInt32BE(type, at);
  at = out.writeUInt8(done ? 1 : 0, at);
  return out.writeInt32BE(-1, at);
}
