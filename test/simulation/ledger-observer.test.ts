import { describe, expect, it } from 'vitest';
import { LedgerObserver, type LedgerEvents } from '../../src/simulation/ledger-observer.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { encodeProgress } from '../../src/model/progress-record.js';
import { encodeLedgerPart, type LedgerPart } from '../../src/model/member-ledger.js';
import type { SimChange } from '../../src/simulation/sim-zookeeper.js';

const paths = new ZkPaths('fleet');
const M = 'm-aaaa-0000000001';
const FIRE = Date.UTC(2026, 0, 1, 0, 0, 5);
const iso = (ms: number) => new Date(ms).toISOString();
const OPERATOR = 99n;

/** A server of nodes set by hand, and the observer over it. */
function world(events: LedgerEvents = {}) {
  let zxid = 0n;
  /** Each node's data and the zxid of its last write (the next commit's). */
  const written = new Map<string, bigint>();
  const nodes = new Map<string, Buffer>([[paths.member(M), Buffer.alloc(0)]]);
  const set = nodes.set.bind(nodes);
  nodes.set = (path: string, data: Buffer) => {
    written.set(path, zxid + 1n);
    return set(path, data);
  };
  const server = { peek: (path: string) => (nodes.has(path) ? { data: nodes.get(path)!, stat: { ephemeralOwner: 1n, mzxid: written.get(path) ?? 0n, version: 0 } } : undefined) };
  const observer = new LedgerObserver(server, paths, events);
  const commit = (changes: SimChange[], session = 1n, atMs = 0) => observer.committed(changes, ++zxid, session, OPERATOR, atMs).map((i) => (i.kind === 'ledger-mismatch' ? i.detail : i.kind));
  /** The item's record as a begin at `fireMs` writes it (its frontier there). */
  const record = (item: number, fireMs = FIRE): SimChange => {
    nodes.set(paths.item('j', item), encodeProgress({ lastScheduled: iso(fireMs), inFlight: null }));
    return { op: 'setData', path: paths.item('j', item) };
  };
  /** Writes the ledger part: flights as [item, fire, attempt, token] (no token: begun by this write). */
  const ledger = (flights: Array<[number, number, number, bigint?]>, t = FIRE, b = flights.map(([i]) => i)): SimChange => {
    const part: LedgerPart = new Map([['j', { t, b: new Set(b), f: new Map(flights.map(([i, fireMs, attempt, token]) => [i, { fireMs, attempt, ...(token !== undefined && { token }) }])) }]]);
    nodes.set(paths.ledgerPart(M, 4), encodeLedgerPart(part));
    return { op: 'setData', path: paths.ledgerPart(M, 4), ephemeralOwner: 0n };
  };
  return { nodes, observer, commit, record, ledger };
}

describe('LedgerObserver (invariant (h))', () => {
  it('a begin and a release that write the ledger with the records break nothing', () => {
    const w = world();
    expect(w.commit([w.record(0), w.record(1), w.ledger([[0, FIRE, 1], [1, FIRE, 1]])])).toEqual([]);
    expect(w.commit([w.record(0), w.ledger([[1, FIRE, 1, 1n]])])).toEqual([]);
  });

  it('tells each run begun once (not again when its token is written out) and each run an operator took', () => {
    const begun: string[] = [];
    const taken: string[] = [];
    const w = world({ begun: (r) => begun.push(`${r.member} ${r.job}#${r.item} ${r.zxid}`), taken: (r) => taken.push(`${r.member} ${r.job}#${r.item} ${r.zxid}`) });
    w.commit([w.record(0), w.ledger([[0, FIRE, 1]])]);
    w.commit([w.record(1), w.ledger([[0, FIRE, 1, 1n], [1, FIRE, 1]])]);
    expect(begun).toEqual([`${M} j#0 1`, `${M} j#1 2`]);
    w.commit([w.ledger([[0, FIRE, 1, 1n]])], OPERATOR);
    expect(taken).toEqual([`${M} j#1 3`]);
  });

  it("a ledger written by a session neither its member's nor the operator's, or a run put in flight that another live member runs, is a violation", () => {
    const w = world();
    expect(w.commit([w.record(0), w.ledger([[0, FIRE, 1]])], 2n)).toEqual([expect.stringMatching(/written by session 2, not by its member's \(1\) nor the operator's/)]);
    const v = world();
    const B = 'm-bbbb-0000000002';
    v.nodes.set(paths.member(B), Buffer.alloc(0));
    v.nodes.set(paths.ledgerPart(B, 4), encodeLedgerPart(new Map([['j', { b: new Set<number>(), f: new Map([[0, { fireMs: FIRE, attempt: 1 }]]) }]])));
    v.commit([{ op: 'create', path: paths.ledgerPart(B, 4) }]);
    expect(v.commit([v.record(0), v.ledger([[0, FIRE, 1]])])).toEqual([`j#0 put in flight while the ledger of ${B}, live, has it in flight`]);
    // Once B's member node is gone (its session ended: the run was cut short), it is no longer running.
    v.nodes.delete(paths.member(B));
    v.commit([{ op: 'delete', path: paths.member(B) }]);
    expect(v.commit([v.record(1), v.ledger([[1, FIRE, 1]])])).toEqual([]);
  });

  it("a gone member's run that the record it wrote names stays in its ledger until another member writes the record", () => {
    for (const takenOver of [false, true]) {
      const w = world();
      const inFlight = (member: string) => ({ fireTime: iso(FIRE), attempt: 1, member, worker: 'w', startedAt: iso(FIRE) });
      const began = [w.ledger([[0, FIRE, 1]])];
      w.nodes.set(paths.item('j', 0), encodeProgress({ lastScheduled: iso(FIRE), inFlight: inFlight(M) }, M));
      expect(w.commit([...began, { op: 'setData', path: paths.item('j', 0) }])).toEqual([]);
      // Its session ends: its ledger and the record it wrote stay.
      w.nodes.delete(paths.member(M));
      expect(w.commit([{ op: 'delete', path: paths.member(M) }])).toEqual([]);
      if (takenOver) {
        // Another (live) member's takeover writes the record (its re-run in flight): M's entry is superseded.
        w.nodes.set(paths.member('m-bbbb-0000000002'), Buffer.alloc(0));
        w.nodes.set(paths.item('j', 0), encodeProgress({ lastScheduled: iso(FIRE), inFlight: { ...inFlight('m-bbbb-0000000002'), attempt: 2 } }, 'm-bbbb-0000000002'));
        expect(w.commit([{ op: 'setData', path: paths.item('j', 0) }])).toEqual([]);
      }
      // The leader's sweep removes M's ledger: only once nothing in it is current.
      w.nodes.delete(paths.ledgerPart(M, 4));
      const swept = w.commit([{ op: 'delete', path: paths.ledgerPart(M, 4) }]);
      expect(swept).toEqual(takenOver ? [] : [`j#0: gone members' ledgers hold [] in flight, its record ${M} fire ${iso(FIRE)} attempt 1 (written by 1)`]);
    }
  });

  it("a claim past the item's lastScheduled is the steady state (step 4c: the claims are the frontier)", () => {
    const w = world();
    w.commit([w.record(0), w.ledger([[0, FIRE, 1]])]);
    expect(w.commit([w.ledger([[0, FIRE, 1, 1n]], FIRE + 1000)])).toEqual([]);
  });
});
