import type { Stat } from 'node-zookeeper-client';

/** A znode's metadata, with the client library's 8-byte buffers decoded. */
export interface ZkStat {
  /** zxid of the transaction that created the node. */
  czxid: bigint;
  /** zxid of the transaction that last changed the node's data. */
  mzxid: bigint;
  /** Server clock (ms since epoch) at creation. */
  ctime: number;
  /** Server clock (ms since epoch) at the last data change. */
  mtime: number;
  /** Data version; pass it back to make a write conditional. */
  version: number;
  /** Children version. */
  cversion: number;
  /** ACL version; pass it back to make a `setAcl` conditional. */
  aversion: number;
  /** Session id (hex) owning the node if it is ephemeral, else null. */
  ephemeralOwner: string | null;
  dataLength: number;
  numChildren: number;
}

function toBigInt(value: unknown): bigint {
  if (Buffer.isBuffer(value)) return value.readBigInt64BE(0);
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'bigint') return value;
  return 0n;
}

/** Decodes the client library's Stat; a stat our own reply decoders made (library-replies.ts) is already one. */
export function toZkStat(stat: Stat | ZkStat): ZkStat {
  const raw = stat as unknown as Record<string, unknown>;
  if (typeof raw.czxid === 'bigint') return stat as ZkStat;
  const owner = toBigInt(raw.ephemeralOwner);
  return {
    czxid: toBigInt(raw.czxid),
    mzxid: toBigInt(raw.mzxid),
    ctime: Number(toBigInt(raw.ctime)),
    mtime: Number(toBigInt(raw.mtime)),
    version: Number(raw.version),
    cversion: Number(raw.cversion),
    aversion: Number(raw.aversion),
    ephemeralOwner: owner === 0n ? null : sessionIdHex(raw.ephemeralOwner),
    dataLength: Number(raw.dataLength),
    numChildren: Number(raw.numChildren),
  };
}

/** A session id buffer as 16 hex digits, the form ZooKeeper's own tools print (without 0x). */
export function sessionIdHex(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('hex').padStart(16, '0');
  return toBigInt(value).toString(16).padStart(16, '0');
}
