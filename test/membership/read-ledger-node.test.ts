import { describe, expect, it } from 'vitest';
import { readLedgerPartNode } from '../../src/membership/read-ledger-node.js';
import { encodeLedgerPart } from '../../src/model/member-ledger.js';
import type { ZkStat } from '../../src/zk/zk-stat.js';

const PART = '/ns/ledgers/m-x-0000000001/3';
const INDEX = `${PART}/index`;

/** ZooKeeper's answers to reads, path by path, in turn (the last one repeats). */
function reads(answers: Record<string, Array<{ data: unknown; version: number } | null>>) {
  const log: string[] = [];
  const zk = {
    getDataIfExists: async (path: string) => {
      log.push(path);
      const list = answers[path]!;
      const a = list.length > 1 ? list.shift()! : list[0]!;
      if (!a) return null;
      const data = Buffer.isBuffer(a.data) ? a.data : Buffer.from(JSON.stringify(a.data));
      return { data, stat: { version: a.version, mzxid: BigInt(a.version + 100) } as ZkStat };
    },
  };
  return { zk, log };
}

describe('readLedgerPartNode', () => {
  it('reads a positional part with its index', async () => {
    const { zk, log } = reads({ [PART]: [{ data: { v: 2, iv: 1, c: [[5000, '01']] }, version: 7 }], [INDEX]: [{ data: { v: 2, j: [['a', '01']] }, version: 1 }] });
    const read = await readLedgerPartNode(zk, PART);
    expect(read?.stat.mzxid).toBe(107n);
    expect(read?.part).toEqual({ ok: true, value: new Map([['a', { t: 5000, b: new Set([0]), f: new Map() }]]) });
    expect(log).toEqual([PART, INDEX]);
  });

  it('reads both again when a write came between the two reads', async () => {
    const { zk, log } = reads({
      [PART]: [{ data: { v: 2, iv: 1, c: [[5000, '01']] }, version: 7 }, { data: { v: 2, iv: 2, c: [[6000, '03']] }, version: 8 }],
      [INDEX]: [{ data: { v: 2, j: [['a', '01'], ['b', '01']] }, version: 2 }],
    });
    const read = await readLedgerPartNode(zk, PART);
    expect(read?.stat.version).toBe(8);
    expect(read?.part.ok && [...read.part.value.keys()]).toEqual(['a', 'b']);
    expect(log).toEqual([PART, INDEX, PART, INDEX]);
  });

  it('gives up after a few tries: the part reads as malformed', async () => {
    const { zk, log } = reads({ [PART]: [{ data: { v: 2, iv: 1 }, version: 7 }], [INDEX]: [{ data: { v: 2, j: [] }, version: 2 }] });
    const read = await readLedgerPartNode(zk, PART);
    const part = read!.part;
    expect(part.ok).toBe(false);
    expect(!part.ok && part.error.message).toMatch(/written against index version 1, read with version 2/);
    expect(log).toHaveLength(10);
  });

  it('a part in the first form needs no index; a part gone is null', async () => {
    const first = reads({ [PART]: [{ data: encodeLedgerPart(new Map([['a', { t: 1000, b: new Set([1]), f: new Map() }]])), version: 3 }] });
    expect((await readLedgerPartNode(first.zk, PART))?.part.ok).toBe(true);
    expect(first.log).toEqual([PART]);
    expect(await readLedgerPartNode(reads({ [PART]: [null] }).zk, PART)).toBeNull();
  });

  it('a positional part whose index is gone is malformed', async () => {
    const { zk } = reads({ [PART]: [{ data: { v: 2, iv: 1 }, version: 7 }], [INDEX]: [null] });
    const part = (await readLedgerPartNode(zk, PART))!.part;
    expect(!part.ok && part.error.message).toMatch(/no index was read with it/);
  });
});
