import { describe, expect, it } from 'vitest';
import { LedgerStore } from '../../src/console/ledger-store.js';
import { encodeLedgerPart, type LedgerPart } from '../../src/model/member-ledger.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import type { NodeSnapshot } from '../../src/zk/node-cache.js';
import { ledgerPartOfNodes, type LedgerNodeRead } from '../../src/membership/read-ledger-node.js';

const A = 'm-aaaa-0000000001';
const B = 'm-bbbb-0000000002';
const paths = new ZkPaths('ns');

/** A part node as read: job `j` with `items` in flight at fire 1000, last written at `mzxid`. */
const node = (mzxid: bigint, items: number[]): LedgerNodeRead => {
  const part: LedgerPart = new Map([['j', { b: new Set<number>(), f: new Map(items.map((i) => [i, { fireMs: 1000, attempt: 1 }])) }]]);
  return read(encodeLedgerPart(part), mzxid);
};
/** A part node read (without an index: the first form). */
const read = (data: Buffer, mzxid: bigint): LedgerNodeRead => ({ data, stat: { mzxid } as NodeSnapshot['stat'], part: ledgerPartOfNodes(data, 'x', undefined) });

describe('LedgerStore', () => {
  it('keeps the newest read of each part (an older one, read late, is not taken); decodes each version once', () => {
    const store = new LedgerStore(paths);
    const k = store.partOf('j');
    expect(store.put(A, k, node(5n, [0]))).toBe(true);
    expect(store.put(A, k, node(5n, [0]))).toBe(false); // the same write
    expect(store.put(A, k, node(3n, [1]))).toBe(false); // older
    const first = store.jobLedgers('j', [A], new Set([A]));
    // (Put without saying where its read came: read after every record, as far as the store knows.)
    expect(first.parts).toEqual([{ member: A, live: true, mzxid: 5n, entries: expect.any(Map), readSeq: Number.MAX_SAFE_INTEGER }]);
    expect([...first.parts[0]!.entries.get('j')!.f.keys()]).toEqual([0]);
    expect(store.jobLedgers('j', [A], new Set([A])).parts[0]!.entries).toBe(first.parts[0]!.entries); // decoded once
    expect(store.put(A, k, node(8n, [2]))).toBe(true);
    expect([...store.jobLedgers('j', [A], new Set()).parts[0]!.entries.get('j')!.f.keys()]).toEqual([2]);
  });

  it('numbers reads in the order they are sent, keeping the first read of a write; tells which runs a newer read of a part no longer has in flight', () => {
    const store = new LedgerStore(paths);
    const k = store.partOf('j');
    const first = store.nextReadSeq();
    expect(store.nextReadSeq()).toBeGreaterThan(first);
    expect(store.put(A, k, node(5n, [0, 1]), first)).toBe(true);
    expect(store.put(A, k, node(5n, [0, 1]), store.nextReadSeq())).toBe(false);
    expect(store.jobLedgers('j', [A], new Set([A])).parts[0]!.readSeq).toBe(first); // a record read after the first read is as new
    expect(store.flightsEnded(A, 'j', node(8n, [1, 2]))).toEqual([0]);
    expect(store.flightsEnded(A, 'j', null)).toEqual([0, 1]); // the part gone: nothing of it in flight
    expect(store.flightsEnded(B, 'j', node(8n, []))).toEqual([]); // nothing kept of B's
    expect(store.flightsEnded(A, 'other', node(8n, []))).toEqual([]);
  });

  it('a part never read counts as empty; a malformed one is reported apart; a ledger gone is forgotten', () => {
    const store = new LedgerStore(paths);
    const k = store.partOf('j');
    store.put(A, k, node(5n, [0]));
    const bad = Buffer.from('not json');
    store.put(B, k, { data: bad, stat: { mzxid: 6n } as NodeSnapshot['stat'], part: ledgerPartOfNodes(bad, paths.ledgerPart(B, k), undefined) });
    const read = store.jobLedgers('j', [A, B, 'm-cccc-0000000003'], new Set([A]));
    expect(read.parts.map((p) => p.member)).toEqual([A]);
    expect(read.unreadable).toEqual([{ error: expect.objectContaining({ path: paths.ledgerPart(B, k) }), mzxid: 6n }]);
    expect(store.retain(new Set([A]))).toBe(true);
    expect(store.retain(new Set([A]))).toBe(false);
    expect(store.jobLedgers('j', [A, B], new Set([A])).unreadable).toEqual([]);
  });
});
