/*
 * How big a multi may get. ZooKeeper drops the connection of a request larger than its
 * `jute.maxbuffer`; writers that put many ops in one multi cut it with `chunkBySize`.
 */

/**
 * Largest multi zkshard sends, in bytes (sizes are counted from the ops' paths and data, with
 * generous fixed costs per op): below ZooKeeper's request limit (`jute.maxbuffer`, 1 MB less one
 * byte by default), because a larger request makes the server drop the connection, and a retry
 * would do the same again. (The run ledger fits about 2,000 items' begins or releases in one.)
 */
export const MAX_MULTI_BYTES = 960 * 1024;
/** Fixed bytes of one op in a multi (op header, length prefixes, version or flags), rounded up. */
export const OP_BYTES = 32;
/** Bytes of the open ACL a create carries, rounded up. */
export const ACL_BYTES = 32;

/**
 * Splits items into consecutive chunks whose estimated size stays within `MAX_MULTI_BYTES`
 * (a single item larger than that still gets a chunk of its own).
 */
export function chunkBySize<T>(items: readonly T[], bytesOf: (item: T) => number, maxBytes = MAX_MULTI_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
