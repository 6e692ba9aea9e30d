import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { decodeMultiReply, encodeAcl, encodeMulti, OP, setXid } from '../../src/zk/multi-codec.js';
import { digestId, OPEN_ACL, PERMS, toLibraryAcl, type ZkAcl } from '../../src/zk/zk-acl.js';
import { toZkStat } from '../../src/zk/zk-stat.js';
import { ZkTransaction } from '../../src/zk/zk-transaction.js';

const require = createRequire(import.meta.url);
/** The client library's own wire format (jute), to compare with. */
const jute = require('node-zookeeper-client/lib/jute/index.js') as {
  Request: new (header: unknown, payload: unknown) => { toBuffer(): Buffer };
  TransactionRequest: new (ops: unknown[]) => { setChrootPath(path: string): void };
  TransactionResponse: new () => { setChrootPath(path: string): void; deserialize(buffer: Buffer, offset: number): number; results: Array<{ type: number; path?: string; stat?: zookeeper.Stat; err?: number }> };
  protocol: { RequestHeader: new (xid: number, type: number) => unknown };
};

/** The frame the library writes for the same multi (with the versions put back as ZkClient did). */
function libraryFrame(tx: ZkTransaction, xid: number, chroot = '', acl: readonly ZkAcl[] = OPEN_ACL): Buffer {
  const client = zookeeper.createClient(`127.0.0.1:1${chroot}`); // never connected
  const t = client.transaction();
  const ops = (t as unknown as { ops: Array<{ version?: number }> }).ops;
  for (const op of tx.ops) {
    if (op.type === 'create') {
      const mode = op.mode === 'ephemeral' ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT;
      if (op.data) t.create(op.path, op.data, toLibraryAcl(acl), mode);
      else t.create(op.path, toLibraryAcl(acl), mode);
    } else if (op.type === 'setData') t.setData(op.path, op.data, op.version);
    else if (op.type === 'check') t.check(op.path, op.version);
    else t.remove(op.path, op.version);
    if (op.type !== 'create') ops[ops.length - 1]!.version = op.version;
  }
  const payload = new jute.TransactionRequest(ops);
  if (chroot) payload.setChrootPath(chroot);
  return new jute.Request(new jute.protocol.RequestHeader(xid, 14), payload).toBuffer();
}

function sample(): ZkTransaction {
  const tx = new ZkTransaction().check('/zkshard/workers/m-0000000001', 7);
  for (let i = 0; i < 40; i++) {
    tx.create(`/zkshard/jobs/jöb-${i}/items/${i}/running`, Buffer.from(JSON.stringify({ v: 2, m: 'm-0000000001', f: 1_800_000_000_000 + i })), 'ephemeral');
    tx.setData(`/zkshard/jobs/jöb-${i}/items/${i}`, Buffer.alloc(i * 7, 1), i); // version 0 included
    if (i % 3 === 0) tx.remove(`/zkshard/jobs/jöb-${i}/items/${i}/running`, i % 2 === 0 ? -1 : 0);
    if (i % 5 === 0) tx.create(`/zkshard/jobs/jöb-${i}/items/${i}/history`);
    if (i % 7 === 0) tx.setData(`/zkshard/jobs/jöb-${i}/items/${i}/stages`, Buffer.alloc(0), -1);
  }
  return tx.check('/', 0);
}

describe('multi codec', () => {
  it('encodes a multi byte for byte as the client library does (versions as given, creates without data, chroot, multi-byte paths)', () => {
    const tx = sample();
    const frame = encodeMulti(tx.ops, encodeAcl(OPEN_ACL));
    setXid(frame, 4711);
    expect(frame.equals(libraryFrame(tx, 4711))).toBe(true);
    expect(frame.length).toBe(tx.bytes + 4);
    const chrooted = encodeMulti(tx.ops, encodeAcl(OPEN_ACL), '/fleet-ä');
    setXid(chrooted, 12);
    expect(chrooted.equals(libraryFrame(tx, 12, '/fleet-ä'))).toBe(true);
  });

  it('encodes the ACL every create carries as the library does (a secured policy)', () => {
    const policy: ZkAcl[] = [
      { scheme: 'digest', id: digestId('fleet', 'pw'), perms: PERMS.all },
      { scheme: 'digest', id: digestId('opérateur', 'x'), perms: PERMS.all },
      { scheme: 'world', id: 'anyone', perms: PERMS.read },
    ];
    const tx = sample();
    const frame = encodeMulti(tx.ops, encodeAcl(policy));
    setXid(frame, 1);
    expect(frame.equals(libraryFrame(tx, 1, '', policy))).toBe(true);
  });

  it('decodes a multi reply as the library does: created paths (chroot taken off), new stats, errors', () => {
    const w = new ReplyWriter();
    w.header(OP.create).string('/fleet/a/b/running');
    w.header(OP.create).string('/fleet');
    w.header(OP.setData).stat({ czxid: 0x1_0000_0001n, mzxid: 0x7fff_ffff_ffffn, ctime: 1_800_000_000_123, mtime: 1_800_000_001_456, version: 41, cversion: 3, aversion: 1, owner: 0x0100_04a5_1a86_0001n, dataLength: 120, numChildren: 2, pzxid: 99n });
    w.header(OP.setData).stat({ czxid: 5n, mzxid: 6n, ctime: 7, mtime: 8, version: 0, cversion: 0, aversion: 0, owner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n });
    w.header(OP.remove);
    w.header(OP.check);
    w.header(OP.error).int(-101);
    w.header(OP.error).int(0);
    w.header(-1, true);
    const reply = Buffer.concat([Buffer.from([9, 9, 9]), w.bytes()]); // at an offset, as in a read

    const library = new jute.TransactionResponse();
    library.setChrootPath('/fleet');
    const libraryBytes = library.deserialize(reply, 3);
    const ours = decodeMultiReply(reply, 3, '/fleet');
    expect(ours.bytes).toBe(libraryBytes);
    expect(ours.results).toEqual(library.results.map((r) => ({ ...r, ...(r.stat && { stat: toZkStat(r.stat) }) })));
    expect(ours.results[2]!.stat!.ephemeralOwner).toBe('010004a51a860001');
    expect(ours.results[3]!.stat!.ephemeralOwner).toBeNull();
  });
});

/** Writes a multi reply body (after the reply header) field by field. */
class ReplyWriter {
  private readonly parts: Buffer[] = [];

  header(type: number, done = false): this {
    const b = Buffer.alloc(9);
    b.writeInt32BE(type, 0);
    b.writeUInt8(done ? 1 : 0, 4);
    b.writeInt32BE(-1, 5);
    this.parts.push(b);
    return this;
  }

  int(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value, 0);
    this.parts.push(b);
    return this;
  }

  string(value: string): this {
    this.int(Buffer.byteLength(value));
    this.parts.push(Buffer.from(value));
    return this;
  }

  stat(s: { czxid: bigint; mzxid: bigint; ctime: number; mtime: number; version: number; cversion: number; aversion: number; owner: bigint; dataLength: number; numChildren: number; pzxid: bigint }): this {
    const b = Buffer.alloc(68);
    b.writeBigInt64BE(s.czxid, 0);
    b.writeBigInt64BE(s.mzxid, 8);
    b.writeBigInt64BE(BigInt(s.ctime), 16);
    b.writeBigInt64BE(BigInt(s.mtime), 24);
    b.writeInt32BE(s.version, 32);
    b.writeInt32BE(s.cversion, 36);
    b.writeInt32BE(s.aversion, 40);
    b.writeBigInt64BE(s.owner, 44);
    b.writeInt32BE(s.dataLength, 52);
    b.writeInt32BE(s.numChildren, 56);
    b.writeBigInt64BE(s.pzxid, 60);
    this.parts.push(b);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
