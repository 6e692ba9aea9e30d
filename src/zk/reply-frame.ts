import type { Xid } from './session-lease.js';

/**
 * The xid of the first whole frame in what the library is about to process (its pending bytes,
 * then `chunk`), or undefined when no whole frame is there yet. While the library is connecting,
 * the frame is the handshake's answer. Frames: int32 length, then (except the handshake's) a reply
 * header that starts with the int32 xid.
 */
export function nextReplyXid(pending: Buffer | null, chunk: Buffer, connecting: boolean): Xid | undefined {
  const head = pending ?? EMPTY;
  const total = head.length + chunk.length;
  if (total < 4) return undefined;
  const size = int32At(head, chunk, 0);
  if (total < size + 4) return undefined;
  if (connecting) return 'connect';
  return size >= 4 ? int32At(head, chunk, 4) : undefined;
}

const EMPTY = Buffer.alloc(0);

/** The big-endian int32 at `offset` of `a` followed by `b`. */
function int32At(a: Buffer, b: Buffer, offset: number): number {
  if (offset + 4 <= a.length) return a.readInt32BE(offset);
  if (offset >= a.length) return b.readInt32BE(offset - a.length);
  const bytes = Buffer.concat([a.subarray(offset), b.subarray(0, 4 - (a.length - offset))]);
  return bytes.readInt32BE(0);
}
