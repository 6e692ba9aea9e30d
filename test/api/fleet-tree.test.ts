import { describe, expect, it } from 'vitest';
import { nodeKind, summarize } from '../../src/api/fleet-tree.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { encodeLedgerPart } from '../../src/model/member-ledger.js';

const paths = new ZkPaths('fleet');
const entry = (data: Buffer, children: string[] = []) => ({ data, stat: { mtime: 0 } as never, children });

describe('zkctl tree: member ledgers', () => {
  it('knows the ledger nodes', () => {
    expect(nodeKind(paths, paths.ledgers)).toBe('ledgers');
    expect(nodeKind(paths, paths.ledger('m-a-0000000001'))).toBe('ledger');
    expect(nodeKind(paths, paths.ledgerPart('m-a-0000000001', 17))).toBe('ledger-part');
    expect(nodeKind(paths, `${paths.ledger('m-a-0000000001')}/x`)).toBe('node');
  });

  it('sums a ledger part up, and says what is wrong with a malformed one', () => {
    const part = encodeLedgerPart(new Map([
      ['a', { t: 1000, b: new Set([0, 1]), f: new Map([[1, { fireMs: 1000, attempt: 1 }]]) }],
      ['b', { t: 1000, b: new Set([3]), f: new Map() }],
    ]));
    expect(summarize('ledger-part', entry(part))).toBe('2 jobs, 1 run in flight');
    expect(summarize('ledger-part', entry(Buffer.from('{"v":1,"j":{"a":{"t":"soon"}}}')))).toBe('malformed: j.a.t must be an integer from 0 to 8640000000000000 (got "soon")');
    expect(summarize('ledgers', entry(Buffer.alloc(0), ['m-a-0000000001']))).toBe('1 member ledger');
    expect(summarize('ledger', entry(Buffer.alloc(0), ['3', '17']))).toBe('2 parts');
  });
});
