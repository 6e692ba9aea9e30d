import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { aclBytes, DEFAULT_MAX_REQUEST_BYTES } from '../../src/zk/multi-size.js';
import { digestId, OPEN_ACL, PERMS, toLibraryAcl, type ZkAcl } from '../../src/zk/zk-acl.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { RequestTooLargeError } from '../../src/zk/zk-errors.js';
import { ZkTransaction } from '../../src/zk/zk-transaction.js';

const require = createRequire(import.meta.url);
/** The client library's own wire encoder (jute), to check our byte counts against. */
const jute = require('node-zookeeper-client/lib/jute/index.js') as {
  TransactionRequest: new (ops: unknown[]) => { setChrootPath(path: string): void; byteLength(): number };
  protocol: { RequestHeader: new (xid: number, type: number) => { byteLength(): number } };
};

/** Bytes of the same ops as the library puts them on the wire (request header included). */
function libraryBytes(tx: ZkTransaction, chroot = '', acl: readonly ZkAcl[] = OPEN_ACL): number {
  const client = zookeeper.createClient(`127.0.0.1:1${chroot}`); // never connected
  const t = client.transaction();
  for (const op of tx.ops) {
    if (op.type === 'create') t.create(op.path, op.data, toLibraryAcl(acl), op.mode === 'ephemeral' ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT);
    else if (op.type === 'setData') t.setData(op.path, op.data, op.version);
    else if (op.type === 'check') t.check(op.path, op.version);
    else t.remove(op.path, op.version);
  }
  const request = new jute.TransactionRequest((t as unknown as { ops: unknown[] }).ops);
  if (chroot) request.setChrootPath(chroot);
  return new jute.protocol.RequestHeader(1, 14).byteLength() + request.byteLength();
}

function sampleTransaction(pathPrefixBytes = 0, acl: readonly ZkAcl[] = OPEN_ACL): ZkTransaction {
  const tx = new ZkTransaction(DEFAULT_MAX_REQUEST_BYTES, pathPrefixBytes, aclBytes(acl)).check('/zkshard/workers/m-0000000001');
  for (let i = 0; i < 50; i++) {
    tx.create(`/zkshard/jobs/jöb-${i}/items/${i}/running`, Buffer.from(JSON.stringify({ v: 2, m: 'm-0000000001', f: Date.now() + i })), 'ephemeral');
    tx.setData(`/zkshard/jobs/jöb-${i}/items/${i}`, Buffer.alloc(i * 7, 1), i);
    if (i % 3 === 0) tx.remove(`/zkshard/jobs/jöb-${i}/items/${i}/running`, -1);
    if (i % 5 === 0) tx.create(`/zkshard/jobs/jöb-${i}/items/${i}/history`);
  }
  return tx;
}

describe('multi sizes', () => {
  it('counts every op exactly as the client library encodes it (multi-byte paths, no data, chroot)', () => {
    expect(sampleTransaction().bytes).toBe(libraryBytes(sampleTransaction()));
    expect(sampleTransaction(Buffer.byteLength('/fleet-a')).bytes).toBe(libraryBytes(sampleTransaction(), '/fleet-a'));
    expect(new ZkTransaction().bytes).toBe(17); // request header and the closing multi header
    // The root under a chroot is the chroot alone on the wire (`/fleet-a`, not `/fleet-a/`).
    const root = () => new ZkTransaction(DEFAULT_MAX_REQUEST_BYTES, Buffer.byteLength('/fleet-a')).check('/', 0);
    expect(root().bytes).toBe(libraryBytes(root(), '/fleet-a'));
  });

  it('counts the ACL every create carries (a secured policy: fleet, operator, viewer; multi-byte user)', () => {
    const policy: ZkAcl[] = [
      { scheme: 'digest', id: digestId('fleet', 'pw'), perms: PERMS.all },
      { scheme: 'digest', id: digestId('opérateur', 'x'), perms: PERMS.all },
      { scheme: 'digest', id: digestId('viewer', 'y'), perms: PERMS.read },
    ];
    expect(sampleTransaction(0, policy).bytes).toBe(libraryBytes(sampleTransaction(), '', policy));
    expect(sampleTransaction(8, policy).bytes).toBe(libraryBytes(sampleTransaction(), '/fleet-a', policy));
    expect(sampleTransaction(0, policy).bytes).toBeGreaterThan(sampleTransaction().bytes);
    const zk = new ZkClient({ connect: '127.0.0.1:1', acl: policy });
    expect(zk.transaction().create('/a').bytes).toBe(new ZkTransaction(DEFAULT_MAX_REQUEST_BYTES, 0, aclBytes(policy)).create('/a').bytes);
    // A multi begun while the client created open nodes, committed after it switched to the policy.
    expect(sampleTransaction().bytesWithCreateAcl(aclBytes(policy))).toBe(libraryBytes(sampleTransaction(), '', policy));
  });

  it('truncate drops the last ops and their bytes; overLimit says when the request grew too large', () => {
    const tx = new ZkTransaction(1000).check('/a');
    const base = tx.bytes;
    tx.setData('/a', Buffer.alloc(400)).setData('/b', Buffer.alloc(400));
    expect(tx.overLimit).toBe(false);
    tx.setData('/c', Buffer.alloc(400));
    expect(tx.overLimit).toBe(true);
    tx.truncate(1);
    expect(tx.size).toBe(1);
    expect(tx.bytes).toBe(base);
    expect(tx.measure({ type: 'check', path: '/a', version: -1 })).toBe(base - 17);
  });

  it('addIfFits takes ops back out when they overflow a multi that already holds something, never from an empty one', () => {
    const sized = { add: (t: ZkTransaction, bytes: number[]) => void bytes.forEach((n, i) => t.setData(`/n${i}`, Buffer.alloc(n))) };
    const tx = new ZkTransaction(1000).check('/a');
    expect(tx.addIfFits(sized, [400], false)).toBe('added');
    const before = tx.bytes;
    expect(tx.addIfFits(sized, [300, 300], false)).toBe('full');
    expect(tx.size).toBe(2);
    expect(tx.bytes).toBe(before);
    const alone = new ZkTransaction(1000);
    expect(alone.addIfFits(sized, [2000], true)).toBe('added'); // it gets a multi of its own
    expect(alone.overLimit).toBe(true);
  });

  it('addIfFits takes out what an adder put in before it left its request out', () => {
    const tx = new ZkTransaction(1000).check('/a');
    const before = tx.bytes;
    const leaves = { add: (t: ZkTransaction, n: number) => (t.setData('/x', Buffer.alloc(n)), false) };
    expect(tx.addIfFits(leaves, 10, false)).toBe('left out');
    expect(tx.size).toBe(1);
    expect(tx.bytes).toBe(before);
  });

  it('a client takes the chroot of its connect string into account and refuses to send a multi over its limit', async () => {
    const zk = new ZkClient({ connect: '127.0.0.1:1/fleet-a', maxRequestBytes: 524_288 });
    const tx = zk.transaction().setData('/x', Buffer.alloc(10));
    expect(tx.bytes).toBe(new ZkTransaction().setData('/fleet-a/x', Buffer.alloc(10)).bytes);
    tx.setData('/y', Buffer.alloc(600_000));
    const err = await zk.commit(tx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTooLargeError);
    expect((err as RequestTooLargeError).code).toBe('ZK_REQUEST_TOO_LARGE');
    expect((err as Error).message).toMatch(/2 ops is \d+ bytes, more than maxRequestBytes \(524288\)/);
  });

  it('rejects a maxRequestBytes out of range', () => {
    expect(() => new ZkClient({ connect: '127.0.0.1:1', maxRequestBytes: 1000 })).toThrow(/maxRequestBytes.*got 1000/);
    expect(() => new ZkClient({ connect: '127.0.0.1:1', maxRequestBytes: 1.5e6 + 0.5 })).toThrow(RangeError);
  });
});
