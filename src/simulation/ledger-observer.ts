import type { ZkPaths } from '../zk/zk-paths.js';
import { decodeProgress } from '../model/progress-record.js';
import { entryItems, tokenOf, type LedgerPart } from '../model/member-ledger.js';
import type { Decoded } from '../model/decoded.js';
import { ledgerPartOfNodes } from '../membership/read-ledger-node.js';
import { childPath, LEDGER_INDEX_NODE } from '../zk/zk-paths.js';
import { supersedes } from '../model/ledger-view.js';
import { sequenceOf } from '../zk/zk-paths.js';
import type { SimChange } from './sim-zookeeper.js';
import type { FleetIncident } from './fleet-events.js';
import { itemNodeOf } from './item-node.js';

/** What the observer reads of the simulated server. */
export interface PeekableServer {
  peek(path: string): { data: Buffer; stat: { ephemeralOwner: bigint; mzxid: bigint; version: number } } | undefined;
}

type Flight = { fireMs: number; attempt: number; token: bigint };
const key = (job: string, item: number): string => `${job}#${item}`;

/** What a transaction did to the runs in flight in the ledgers, for the simulation's other checks. */
export interface LedgerEvents {
  /** A run of `member` put in flight (a begin), by the transaction of `session` at `zxid`. */
  begun?(run: { member: string; job: string; item: number; session: bigint; zxid: bigint; path: string }): void;
  /** A run of a live `member` taken from its ledger by an operator's forced operation. */
  taken?(run: { member: string; job: string; item: number; zxid: bigint }): void;
}

/**
 * Checks invariant (h) at every applied transaction (run protocol v2: the members' ledgers say
 * which runs are held): a ledger part is written only by its member's session or the operator's;
 * no run is put in flight while another live member's ledger has the item in flight; and what the
 * ledgers of members gone say of an item while current (`model/ledger-view.ts`: not superseded by
 * another member's write of its record) agrees with its record: a run in flight there is the run
 * the record carries, if it carries one (a run its ledger alone holds is not in the record: step
 * 4c), and every run the record carries of a gone member that wrote it (but a run handed back) is
 * there — a gone member's ledger stays until its entries are superseded. It tells the simulation of every
 * run begun (invariant (g)) and taken by an operator (the excuse of (a)).
 */
export class LedgerObserver {
  /** Per member: its ledger parts as last written, by path, with the zxid of that write. */
  private readonly ledgers = new Map<string, Map<string, LedgerPart>>();
  private readonly partZxid = new Map<string, bigint>();

  constructor(
    private readonly server: PeekableServer,
    private readonly paths: ZkPaths,
    private readonly events: LedgerEvents = {},
  ) {}

  /** Looks at one applied transaction; returns what it breaks. */
  committed(changes: readonly SimChange[], zxid: bigint, session: bigint, operatorSession: bigint, atMs: number): FleetIncident[] {
    const out: FleetIncident[] = [];
    /** Items whose record changed, as job#item → [job, item]. */
    const records = new Map<string, [string, number]>();
    /** Members gone in this transaction (their member node deleted). */
    const gone: string[] = [];
    const ledgerPrefix = `${this.paths.ledgers}/`;
    const memberPrefix = `${this.paths.workers}/`;
    for (const c of changes) {
      const record = itemNodeOf(this.paths, c.path, 'item');
      if (record) {
        records.set(key(record.job, record.item), [record.job, record.item]);
        continue;
      }
      if (c.op === 'delete' && c.path.startsWith(memberPrefix)) gone.push(c.path.slice(memberPrefix.length));
      if (!c.path.startsWith(ledgerPrefix)) continue;
      const [member, part, below] = c.path.slice(ledgerPrefix.length).split('/');
      // (A part's index changes in the multi that writes the part, which is read with it.)
      if (member === undefined || part === undefined || below !== undefined) continue;
      const parts = this.mapOf(this.ledgers, member);
      if (c.op === 'delete') {
        // A gone member's ledger removed (by the leader's sweep): every entry must be superseded.
        const removed = parts.get(c.path);
        parts.delete(c.path);
        this.partZxid.delete(c.path);
        for (const [job, e] of removed ?? []) for (const item of entryItems(e)) records.set(key(job, item), [job, item]);
        continue;
      }
      this.partZxid.set(c.path, zxid);
      const read = peekLedgerPart(this.server, c.path);
      if (!read.ok) {
        out.push({ kind: 'ledger-mismatch', atMs, path: c.path, zxid, detail: `unreadable: ${read.error.message}` });
        continue;
      }
      const before = parts.get(c.path);
      parts.set(c.path, read.value);
      out.push(...this.flightChanges(member, c.path, before, read.value, zxid, session, operatorSession, atMs));
      // (A claim past the item's `lastScheduled` is the steady state since step 4c: the claims
      // are the frontier. Invariant (b) holds the fleet to the largest of the record's and the
      // current claims at the end.)
    }
    for (const member of gone) {
      for (const part of this.ledgers.get(member)?.values() ?? []) for (const [job, e] of part) for (const item of e.f.keys()) records.set(key(job, item), [job, item]);
    }
    for (const [job, item] of records.values()) out.push(...this.compareGone(job, item, zxid, atMs));
    return out;
  }

  /**
   * What one write of `member`'s part did to its runs in flight: runs begun (told to `begun`), runs
   * an operator took (told to `taken`). Incidents: a write by a session that is neither the
   * member's nor the operator's; a run put in flight while another live member's ledger has the
   * item in flight (only the owner begins, and a new owner waits for the old one's run to end).
   */
  private flightChanges(member: string, path: string, before: LedgerPart | undefined, after: LedgerPart, zxid: bigint, session: bigint, operatorSession: bigint, atMs: number): FleetIncident[] {
    const out: FleetIncident[] = [];
    const own = this.server.peek(this.paths.member(member))?.stat.ephemeralOwner;
    if (session !== operatorSession && own !== session) {
      out.push({ kind: 'ledger-mismatch', atMs, path, zxid, detail: `written by session ${session.toString(16)}, not by its member's (${own === undefined ? 'gone' : own.toString(16)}) nor the operator's` });
    }
    for (const [job, e] of after) {
      const was = before?.get(job);
      for (const [item, f] of e.f) {
        // The same run (its token may have been written out since); a begin has another fire or attempt.
        const old = was?.f.get(item);
        if (old && old.fireMs === f.fireMs && old.attempt === f.attempt) continue;
        this.events.begun?.({ member, job, item, session, zxid, path });
        const other = this.liveFlight(job, item, member);
        if (other) out.push({ kind: 'ledger-mismatch', atMs, path, zxid, detail: `${key(job, item)} put in flight while the ledger of ${other}, live, has it in flight` });
      }
    }
    if (session === operatorSession && own !== undefined) {
      for (const [job, e] of before ?? []) {
        for (const item of e.f.keys()) if (!after.get(job)?.f.has(item)) this.events.taken?.({ member, job, item, zxid });
      }
    }
    return out;
  }

  /** A live member other than `except` whose ledger has the item in flight. */
  private liveFlight(job: string, item: number, except: string): string | undefined {
    for (const [member, parts] of this.ledgers) {
      if (member === except || !this.server.peek(this.paths.member(member))) continue;
      for (const part of parts.values()) if (part.get(job)?.f.has(item)) return member;
    }
    return undefined;
  }

  /**
   * The runs in flight the current entries of gone members' ledgers hold for the item, against its
   * record's `inFlight` (same member and fire; the ledger keeps the attempt a run began with, the
   * record the latest).
   */
  private compareGone(job: string, item: number, zxid: bigint, atMs: number): FleetIncident[] {
    const k = key(job, item);
    const node = this.server.peek(this.paths.item(job, item));
    const record = node ? decodeProgress(node.data) : undefined;
    const stamp = node ? { mzxid: node.stat.mzxid, by: record?.by } : undefined;
    const held: Array<{ member: string; fireMs: number; attempt: number }> = [];
    for (const [member, parts] of this.ledgers) {
      if (this.server.peek(this.paths.member(member))) continue;
      for (const [path, part] of parts) {
        const f = part.get(job)?.f.get(item);
        if (f && stamp && !supersedes(stamp, { member, mzxid: this.partZxid.get(path) ?? 0n })) held.push({ member, ...f });
      }
    }
    const f = record?.inFlight;
    const matches = (h: (typeof held)[number]): boolean => !!f && h.member === f.member && h.fireMs === Date.parse(f.fireTime) && h.attempt <= f.attempt;
    // What the record says of a gone member's run it wrote itself must be in that member's ledger;
    // once another member wrote the record, the record carries it on (a takeover that kept it).
    const expected = f && !f.interrupted && record?.by === sequenceOf(f.member) && !this.server.peek(this.paths.member(f.member)) ? f : undefined;
    // A run its member's ledger alone holds is not in the record (run protocol v2, step 4c): a
    // run the record carries must be the one gone members' current entries hold, if they hold any.
    if (held.every((h) => !f || matches(h)) && (!expected || held.length === 1)) return [];
    const said = held.map((h) => `${h.member} fire ${new Date(h.fireMs).toISOString()} attempt ${h.attempt}`).join('; ');
    return [{ kind: 'ledger-mismatch', atMs, path: this.paths.item(job, item), zxid, detail: `${k}: gone members' ledgers hold [${said}] in flight, its record ${f ? `${f.member} fire ${f.fireTime} attempt ${f.attempt} (written by ${record?.by ?? 'nobody'})` : 'none'}` }];
  }

  private mapOf<V>(maps: Map<string, Map<string, V>>, member: string): Map<string, V> {
    let m = maps.get(member);
    if (!m) maps.set(member, (m = new Map()));
    return m;
  }
}

/** A ledger part on the simulated server as it is now, read with its index. */
export function peekLedgerPart(server: PeekableServer, path: string): Decoded<LedgerPart> {
  const index = server.peek(childPath(path, LEDGER_INDEX_NODE));
  return ledgerPartOfNodes(server.peek(path)?.data, path, index && { data: index.data, version: index.stat.version });
}
