import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GetChildrenReply, GetDataReply, ReplyHeader, StatReply } from '../../src/zk/library-replies.js';
import { toZkStat } from '../../src/zk/zk-stat.js';

const require = createRequire(import.meta.url);
/** The client library's own records (this file never patches them). */
type LibRecord = { deserialize(buffer: Buffer, offset: number): number; [field: string]: unknown };
const protocol = (require('node-zookeeper-client/lib/jute/index.js') as { protocol: Record<string, new () => LibRecord> }).protocol;

function stat(owner: bigint): Buffer {
  const b = Buffer.alloc(68);
  b.writeBigInt64BE(0x1_0000_0001n, 0);
  b.writeBigInt64BE(0x7fff_ffff_ffffn, 8);
  b.writeBigInt64BE(1_800_000_000_123n, 16);
  b.writeBigInt64BE(1_800_000_001_456n, 24);
  b.writeInt32BE(41, 32);
  b.writeInt32BE(3, 36);
  b.writeInt32BE(1, 40);
  b.writeBigInt64BE(owner, 44);
  b.writeInt32BE(120, 52);
  b.writeInt32BE(2, 56);
  b.writeBigInt64BE(99n, 60);
  return b;
}
const int = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v, 0); return b; };
const str = (s: string) => Buffer.concat([int(Buffer.byteLength(s)), Buffer.from(s)]);
/** A packet with junk before and after the record, as in a socket read. */
const packet = (...parts: Buffer[]) => Buffer.concat([Buffer.from([7, 7, 7]), ...parts, Buffer.from([8, 8])]);

function both(name: string, ours: { deserialize(buffer: Buffer, offset: number): number }, buffer: Buffer): LibRecord {
  const lib = new protocol[name]!();
  expect(ours.deserialize(buffer, 3)).toBe(lib.deserialize(buffer, 3));
  return lib;
}

describe('reply decoders', () => {
  it('read what the library reads: reply header, getData (data of its own), exists/setData, getChildren2', () => {
    const header = new ReplyHeader();
    const h = both('ReplyHeader', header, packet(int(-2), Buffer.from('0000000100000abc', 'hex'), int(-101)));
    expect([header.xid, header.zxid, header.err]).toEqual([h.xid, h.zxid, h.err]);

    const data = new GetDataReply();
    const dataPacket = packet(str('{"a":1}'), stat(0x0100_04a5_1a86_0001n));
    const d = both('GetDataResponse', data, dataPacket);
    expect(data.data).toEqual(d.data);
    dataPacket.fill(0);
    expect(data.data!.toString()).toBe('{"a":1}'); // a copy, not a view of the packet
    expect(data.stat).toEqual(toZkStat(d.stat as never));
    expect(data.stat!.ephemeralOwner).toBe('010004a51a860001');
    const empty = new GetDataReply();
    const e = both('GetDataResponse', empty, packet(int(-1), stat(0n)));
    expect([empty.data, empty.stat]).toEqual([e.data, toZkStat(e.stat as never)]);

    const s = new StatReply();
    const ls = both('ExistsResponse', s, packet(stat(0n)));
    expect(s.stat).toEqual(toZkStat(ls.stat as never));
    expect(toZkStat(s.stat!)).toBe(s.stat); // passed through

    const children = new GetChildrenReply();
    const c = both('GetChildren2Response', children, packet(int(3), str('m-1'), str('jöb'), str(''), stat(0n)));
    expect(children.children).toEqual(c.children);
    expect(children.stat).toEqual(toZkStat(c.stat as never));
  });
});
