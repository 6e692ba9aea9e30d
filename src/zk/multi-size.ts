/*
 * How big a multi is, byte for byte. ZooKeeper drops the connection of a request larger than its
 * `jute.maxbuffer` (1 MiB less one byte by default), and a retry would do the same again, so every
 * writer that puts many ops in one multi fills it up to the client's `maxRequestBytes` and starts
 * another. Sizes follow ZooKeeper's wire format (jute) as node-zookeeper-client writes it, so they
 * are exact, not estimates (a test checks them against the library's own encoder).
 */
import type { ZkOp } from './zk-op.js';
import { OPEN_ACL, type ZkAcl } from './zk-acl.js';

/**
 * Default largest request zkshard sends, in bytes: ZooKeeper's default `jute.maxbuffer`
 * (1,048,575) less a margin. Raise it (`zookeeper.maxRequestBytes`) only together with the
 * `jute.maxbuffer` of every server of the ensemble.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 1_000_000;
/**
 * Smallest `maxRequestBytes` accepted: an assignment node (at most `MAX_GROUP_BYTES`, 256 KiB) and
 * the fences written with it must fit one request, and a worker's instant should not need many.
 */
export const MIN_MAX_REQUEST_BYTES = 512 * 1024;
/** Largest `maxRequestBytes` accepted (jute's lengths are signed 32-bit; ZooKeeper warns well below). */
export const MAX_MAX_REQUEST_BYTES = 256 * 1024 * 1024;

/** Bytes of a multi besides its ops: request header (xid, type) and the closing multi header. */
export const MULTI_FIXED_BYTES = 8 + 9;

/** A multi header (op type, done flag, error) before every op. */
const HEADER = 9;
/** A length-prefixed string or buffer. */
const str = (bytes: number): number => 4 + bytes;
/** Bytes of an ACL list on the wire: a vector of (perms, scheme, id). */
export function aclBytes(acl: readonly ZkAcl[]): number {
  return acl.reduce((sum, a) => sum + 4 + str(Buffer.byteLength(a.scheme)) + str(Buffer.byteLength(a.id)), 4);
}

/** The ACL bytes every create of a client that creates open nodes carries (`world:anyone`). */
export const OPEN_ACL_BYTES = aclBytes(OPEN_ACL);

/**
 * Bytes one op adds to a multi, header included. `pathPrefixBytes` is the chroot the client puts
 * before every path (the `/chroot` part of the connect string), 0 without one; `createAclBytes`
 * the size of the ACL list every create carries ({@link aclBytes}).
 */
export function opBytes(op: ZkOp, pathPrefixBytes = 0, createAclBytes = OPEN_ACL_BYTES): number {
  // The root under a chroot is the chroot alone (`/a/b`, not `/a/b/`).
  const path = str(op.path === '/' && pathPrefixBytes > 0 ? pathPrefixBytes : Buffer.byteLength(op.path) + pathPrefixBytes);
  switch (op.type) {
    case 'create':
      return HEADER + path + str(op.data?.length ?? 0) + createAclBytes + 4;
    case 'setData':
      return HEADER + path + str(op.data.length) + 4;
    case 'check':
    case 'remove':
      return HEADER + path + 4;
  }
}
