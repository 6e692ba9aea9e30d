import { entryItems, flightGroup, ledgerPartOf, tokenOf, type LedgerFlight, type LedgerPart } from '../model/member-ledger.js';
import { SlotState, WORD_BITS, clearBit, copyWords, flightOf, forEachBit, hasBit, hexOfBytes, isEmpty, mainFlight, setBit } from './slot-state.js';
import { encodeLedgerIndex } from '../model/positional-ledger.js';

/*
 * A member's ledger (run protocol v2) as its writer keeps it: one slot per job, the claims and the
 * runs in flight in typed arrays by slot, so that a write of every job a worker runs (10,000 jobs
 * twice an instant) updates them in place instead of rebuilding a map entry, a Set and a Map per
 * job (docs/design/run-protocol-v2.md, "What the evening of 2026-12-04 added": 154 ms a worker-instant
 * at 10,000 jobs × 2 items, of lookups and garbage collection).
 *
 * Two copies of every slot: `committed` (what ZooKeeper holds) and `working` (what the write in
 * progress makes of it). A write changes the working copy of the slots it touches and encodes
 * their parts from it; `commitWrite` copies them into the committed one, `rollbackWrite` back.
 */

/** A part's index (`model/positional-ledger.ts`): the slot and item of every position, in order. */
interface Positions {
  slots: number[];
  items: number[];
}

/** An index is written anew without its dead positions (nothing claimed or in flight) once they are this many and outnumber the live ones. */
const COMPACT_DEAD_MIN = 64;

export class LedgerTable {
  private readonly slotOfJob = new Map<string, number>();
  private readonly jobOfSlot: string[] = [];
  private readonly partOfSlot: number[] = [];
  /** The slots of each part, in the order their jobs were first met. */
  private readonly slotsOfPart: number[][];
  private readonly offset: number[] = [];
  private readonly words: number[] = [];
  private wordsUsed = 0;
  private readonly committed: SlotState;
  private readonly working: SlotState;
  /** The slots the write in progress touched, and whether each is in it. */
  private dirty: number[] = [];
  private dirtyMark = new Uint8Array(64);
  /** Each part's index as committed, and as the write in progress makes it (the same object unless it changed). */
  private readonly committedPositions: Positions[];
  private readonly workingPositions: Positions[];
  /** Parts whose working index is its own (changed by the write in progress). */
  private readonly positionsChanged = new Set<number>();
  /** Parts whose index in ZooKeeper is not known to be ours (read back): written anew with the part's next write. */
  private readonly indexUnknown: boolean[];
  /** Parts whose index the write in progress writes. */
  private readonly indexWritten = new Set<number>();
  private dirtyByPart: Map<number, number[]> | undefined;

  constructor(private readonly parts: number) {
    this.slotsOfPart = Array.from({ length: parts }, () => []);
    this.committedPositions = Array.from({ length: parts }, () => ({ slots: [], items: [] }));
    this.workingPositions = [...this.committedPositions];
    this.indexUnknown = new Array<boolean>(parts).fill(false);
    this.committed = new SlotState(64, 64);
    this.working = new SlotState(64, 64);
  }

  /** The ledger part `job` is kept in. */
  partOf(job: string): number {
    const slot = this.slotOfJob.get(job);
    return slot === undefined ? ledgerPartOf(job, this.parts) : this.partOfSlot[slot]!;
  }

  /** Whether the committed ledger has the item in flight. */
  inFlight(job: string, item: number): boolean {
    const slot = this.slotOfJob.get(job);
    return slot !== undefined && flightOf(this.committed, slot, item, this.offset[slot]!, this.words[slot]!) !== undefined;
  }

  /** The instant the committed ledger claims the item was begun at last, if it does. */
  claimOf(job: string, item: number): number | undefined {
    const slot = this.slotOfJob.get(job);
    if (slot === undefined) return undefined;
    return this.claimIn(this.committed, slot, item, this.offset[slot]!, this.words[slot]!);
  }

  /** The item's committed run in flight, if any. */
  flightOf(job: string, item: number): LedgerFlight | undefined {
    const slot = this.slotOfJob.get(job);
    return slot === undefined ? undefined : flightOf(this.committed, slot, item, this.offset[slot]!, this.words[slot]!);
  }

  /** The committed runs in flight of `job`, by item. */
  flights(job: string): Map<number, LedgerFlight> {
    const out = new Map<number, LedgerFlight>();
    const slot = this.slotOfJob.get(job);
    if (slot === undefined) return out;
    const c = this.committed;
    const main = mainFlight(c, slot);
    forEachBit(c.f, this.offset[slot]!, this.words[slot]!, (item) => out.set(item, main));
    for (const [item, flight] of c.others[slot] ?? []) out.set(item, flight);
    return out;
  }

  /**
   * The write in progress: the item's claim goes (it left this member, and another member's record
   * write carries it on); with `claimMs`, only while that is the claim (a later one is a new begin's).
   */
  leave(job: string, item: number, claimMs?: number): void {
    const slot = this.slotOfJob.get(job);
    if (slot === undefined) return;
    const w = this.working;
    const off = this.offset[slot]!;
    const n = this.words[slot]!;
    const claim = this.claimIn(w, slot, item, off, n);
    if (claim !== undefined && (claimMs === undefined || claim === claimMs)) {
      this.touch(slot);
      clearBit(w.b, off, item);
      clearBit(w.ob, off, item);
      this.ownOlder(slot).delete(item);
    }
  }

  /** The write in progress: the item's run ended (only its run at `fireMs`, when given: not a later one). */
  end(job: string, item: number, fireMs?: number): void {
    const slot = this.slotOfJob.get(job);
    if (slot === undefined) return;
    const w = this.working;
    const off = this.offset[slot]!;
    if (hasBit(w.f, off, this.words[slot]!, item)) {
      if (fireMs !== undefined && w.fire[slot] !== fireMs) return;
      this.touch(slot);
      clearBit(w.f, off, item);
    } else if (w.others[slot]?.has(item)) {
      if (fireMs !== undefined && w.others[slot]!.get(item)!.fireMs !== fireMs) return;
      this.touch(slot);
      this.ownOthers(slot).delete(item);
    }
  }

  /**
   * The write in progress: a run of the item begun; `scheduled`: a fire of the schedule, whose
   * instant it claims. Its token is the write's zxid (set by `commitWrite`).
   */
  begin(job: string, item: number, fireMs: number, attempt: number, scheduled: boolean): void {
    const slot = this.slotFor(job, item);
    this.touch(slot);
    const w = this.working;
    const off = this.offset[slot]!;
    const n = this.words[slot]!;
    if (scheduled) {
      const t = w.t[slot]!;
      if (Number.isNaN(t) || fireMs > t) {
        // A new instant: the claims at `t` become the older group (each item begun at the new
        // instant leaves it below); the older group before it, what is left of it, goes to the map.
        if (!Number.isNaN(t) && !isEmpty(w.b, off, n)) {
          if (!isEmpty(w.ob, off, n)) {
            const ot = w.ot[slot]!;
            const older = this.ownOlder(slot);
            forEachBit(w.ob, off, n, (i) => void older.set(i, ot));
          }
          copyWords(w.ob, w.b, off, n);
          w.ot[slot] = t;
        }
        w.t[slot] = fireMs;
        w.b.fill(0, off, off + n);
        setBit(w.b, off, item);
      } else if (fireMs === t) setBit(w.b, off, item);
      if (hasBit(w.b, off, n, item)) {
        if (hasBit(w.ob, off, n, item)) clearBit(w.ob, off, item);
        if (w.older[slot]?.has(item)) this.ownOlder(slot).delete(item);
      } else {
        // An instant before `t` (a catch-up): an older claim, unless the item has a later one.
        const ot = hasBit(w.ob, off, n, item) ? w.ot[slot]! : (w.older[slot]?.get(item) ?? Number.NEGATIVE_INFINITY);
        if (fireMs > ot) {
          clearBit(w.ob, off, item);
          this.ownOlder(slot).set(item, fireMs);
        }
      }
    }
    // In flight on this fire and attempt now, whatever it was before.
    clearBit(w.f, off, item);
    w.others[slot]?.delete(item);
    if (isEmpty(w.f, off, n)) {
      w.fire[slot] = fireMs;
      w.attempt[slot] = attempt;
      w.token[slot] = 0n;
      // Runs this write began beside the old main group on this very fire and attempt join the new one.
      const others = w.others[slot];
      if (others && others.size > 0) {
        for (const [i, flight] of [...others]) {
          if (flight.fireMs === fireMs && flight.attempt === attempt && flight.token === undefined) {
            setBit(w.f, off, i);
            this.ownOthers(slot).delete(i);
          }
        }
      }
    }
    if (w.fire[slot] === fireMs && w.attempt[slot] === attempt && w.token[slot] === 0n) setBit(w.f, off, item);
    else this.ownOthers(slot).set(item, { fireMs, attempt });
  }

  /** The parts the write in progress changed, ascending. */
  dirtyParts(): number[] {
    const parts = new Set<number>();
    for (const slot of this.dirty) parts.add(this.partOfSlot[slot]!);
    return [...parts].sort((a, b) => a - b);
  }

  /**
   * Brings the part's index up to the write in progress: a position for every item of the part
   * that has a claim or a run in flight and none yet (appended), and the index written anew without
   * its dead positions once they outnumber the live ones. Returns the index as stored when the
   * write must write it (it changed, or the one in ZooKeeper is not known to be ours); call before
   * `encode`.
   */
  prepareIndex(part: number): Buffer | undefined {
    const w = this.working;
    let pos = this.workingPositions[part]!;
    const own = (): Positions => {
      if (!this.positionsChanged.has(part)) {
        pos = { slots: [...pos.slots], items: [...pos.items] };
        this.workingPositions[part] = pos;
        this.positionsChanged.add(part);
      }
      return pos;
    };
    const add = (slot: number, item: number): void => {
      own();
      pos.slots.push(slot);
      pos.items.push(item);
      setBit(w.ix, this.offset[slot]!, item);
      this.touch(slot);
    };
    // Only slots the write touched can have gained items (all of them when the index is rewritten).
    const slots = this.indexUnknown[part] ? this.slotsOfPart[part]! : (this.dirtyOfPart().get(part) ?? []);
    for (const slot of slots) {
      const off = this.offset[slot]!;
      const n = this.words[slot]!;
      for (let k = 0; k < n; k++) {
        let word = (w.b[off + k]! | w.f[off + k]! | w.ob[off + k]!) & ~w.ix[off + k]!;
        while (word !== 0) {
          const low = word & -word;
          add(slot, k * WORD_BITS + 31 - Math.clz32(low));
          word ^= low;
        }
      }
      for (const item of w.older[slot]?.keys() ?? []) if (!hasBit(w.ix, off, n, item)) add(slot, item);
      for (const item of w.others[slot]?.keys() ?? []) if (!hasBit(w.ix, off, n, item)) add(slot, item);
    }
    let live = 0;
    for (let p = 0; p < pos.slots.length; p++) if (this.holds(pos.slots[p]!, pos.items[p]!)) live++;
    const dead = pos.slots.length - live;
    if (dead >= COMPACT_DEAD_MIN && dead > live) {
      const kept: Positions = { slots: [], items: [] };
      for (let p = 0; p < pos.slots.length; p++) {
        const slot = pos.slots[p]!;
        const item = pos.items[p]!;
        if (this.holds(slot, item)) {
          kept.slots.push(slot);
          kept.items.push(item);
        } else {
          clearBit(w.ix, this.offset[slot]!, item);
          this.touch(slot);
        }
      }
      pos = kept;
      this.workingPositions[part] = kept;
      this.positionsChanged.add(part);
    }
    if (!this.indexUnknown[part] && !this.positionsChanged.has(part)) return undefined;
    this.indexWritten.add(part);
    return this.encodeIndex(part);
  }

  /** A part's index as the write in progress leaves it, as stored (`model/positional-ledger.ts`). */
  encodeIndex(part: number): Buffer {
    const pos = this.workingPositions[part]!;
    return encodeLedgerIndex({ jobs: pos.slots.map((slot) => this.jobOfSlot[slot]!), items: pos.items });
  }

  /**
   * A part as the write in progress leaves it, in the positional form against its index
   * (`prepareIndex` first) at version `indexVersion`: `{ v: 2, iv, c: [[instant, positions]...],
   * f: [[fire, attempt, positions, token?]...] }` (`model/positional-ledger.ts`).
   */
  encode(part: number, indexVersion: number): Buffer {
    const w = this.working;
    const pos = this.workingPositions[part]!;
    const bytes = (pos.slots.length + 7) >> 3;
    const claims = new Map<number, Uint8Array>();
    const flights: Array<{ flight: LedgerFlight; bits: Uint8Array }> = [];
    let lastClaim = Number.NaN;
    let lastClaimBits: Uint8Array | undefined;
    for (let p = 0; p < pos.slots.length; p++) {
      const slot = pos.slots[p]!;
      const item = pos.items[p]!;
      const off = this.offset[slot]!;
      const n = this.words[slot]!;
      const claim = this.claimIn(w, slot, item, off, n);
      if (claim !== undefined) {
        if (claim !== lastClaim) {
          lastClaim = claim;
          lastClaimBits = claims.get(claim);
          if (!lastClaimBits) claims.set(claim, (lastClaimBits = new Uint8Array(bytes)));
        }
        lastClaimBits![p >> 3]! |= 1 << (p & 7);
      }
      const inMain = hasBit(w.f, off, n, item);
      const other = inMain ? undefined : w.others[slot]?.get(item);
      if (inMain || other) {
        // The main group's fields read in place (no object per run in flight).
        const fireMs = other ? other.fireMs : w.fire[slot]!;
        const attempt = other ? other.attempt : w.attempt[slot]!;
        const token = other ? other.token : w.token[slot] === 0n ? undefined : w.token[slot]!;
        let group = flights.find((g) => g.flight.fireMs === fireMs && g.flight.attempt === attempt && g.flight.token === token);
        if (!group) flights.push((group = { flight: token === undefined ? { fireMs, attempt } : { fireMs, attempt, token }, bits: new Uint8Array(bytes) }));
        group.bits[p >> 3]! |= 1 << (p & 7);
      }
    }
    let out = `{"v":2,"iv":${indexVersion}`;
    if (claims.size > 0) out += `,"c":[${[...claims].sort((a, b) => a[0] - b[0]).map(([t, bits]) => `[${t},"${hexOfBytes(bits)}"]`).join(',')}]`;
    if (flights.length > 0) {
      out += `,"f":[${flights.map(({ flight, bits }) => flightGroup(flight, hexOfBytes(bits))).join(',')}]`;
    }
    return Buffer.from(`${out}}`, 'utf8');
  }

  /** The claim a copy has of a slot's item. */
  private claimIn(s: SlotState, slot: number, item: number, off: number, n: number): number | undefined {
    if (!Number.isNaN(s.t[slot]!) && hasBit(s.b, off, n, item)) return s.t[slot]!;
    if (hasBit(s.ob, off, n, item)) return s.ot[slot]!;
    return s.older[slot]?.get(item);
  }

  /** The slots the write in progress touched, by part (grouped once per write). */
  private dirtyOfPart(): Map<number, number[]> {
    if (this.dirtyByPart) return this.dirtyByPart;
    const byPart = new Map<number, number[]>();
    for (const slot of this.dirty) {
      const part = this.partOfSlot[slot]!;
      const slots = byPart.get(part);
      if (slots) slots.push(slot);
      else byPart.set(part, [slot]);
    }
    return (this.dirtyByPart = byPart);
  }

  /** Whether the write in progress leaves the item claimed or in flight. */
  private holds(slot: number, item: number): boolean {
    const w = this.working;
    const off = this.offset[slot]!;
    const n = this.words[slot]!;
    return this.claimIn(w, slot, item, off, n) !== undefined || hasBit(w.f, off, n, item) || w.others[slot]?.has(item) === true;
  }

  /**
   * The write in progress was applied (at `zxid`, the multi's: the token of the runs it began,
   * which the part's next write stores): its slots are committed.
   */
  commitWrite(zxid?: bigint): void {
    if (zxid !== undefined) {
      const w = this.working;
      for (const slot of this.dirty) {
        if (w.token[slot] === 0n) w.token[slot] = zxid;
        const others = w.others[slot];
        if (others) for (const [item, flight] of others) if (flight.token === undefined) others.set(item, { ...flight, token: zxid });
      }
    }
    for (const part of this.positionsChanged) this.committedPositions[part] = this.workingPositions[part]!;
    for (const part of this.indexWritten) this.indexUnknown[part] = false;
    this.settle(this.working, this.committed);
  }

  /** The write in progress was not applied (or not known to be): its slots are as committed again. */
  rollbackWrite(): void {
    for (const part of this.positionsChanged) this.workingPositions[part] = this.committedPositions[part]!;
    this.settle(this.committed, this.working);
  }

  /**
   * Replaces a part's slots, committed and working, with what was read (undefined: nothing);
   * `mzxid`: the part's, the token of the runs its last write began (unset: tokens as read).
   */
  load(part: number, entries: LedgerPart | undefined, mzxid?: bigint): void {
    for (const slot of this.slotsOfPart[part]!) {
      for (const s of [this.committed, this.working]) {
        s.t[slot] = Number.NaN;
        s.ot[slot] = Number.NaN;
        s.b.fill(0, this.offset[slot]!, this.offset[slot]! + this.words[slot]!);
        s.f.fill(0, this.offset[slot]!, this.offset[slot]! + this.words[slot]!);
        s.ob.fill(0, this.offset[slot]!, this.offset[slot]! + this.words[slot]!);
        s.ix.fill(0, this.offset[slot]!, this.offset[slot]! + this.words[slot]!);
        s.others[slot] = undefined;
        s.older[slot] = undefined;
      }
    }
    // The index in ZooKeeper is not ours to extend: the part's next write writes it anew.
    this.committedPositions[part] = this.workingPositions[part] = { slots: [], items: [] };
    this.indexUnknown[part] = true;
    for (const [job, e] of entries ?? []) {
      const slot = this.slotFor(job, Math.max(0, ...entryItems(e)));
      const off = this.offset[slot]!;
      const n = this.words[slot]!;
      this.touch(slot);
      const w = this.working;
      if (e.t !== undefined) w.t[slot] = e.t;
      for (const item of e.b) setBit(w.b, off, item);
      if (e.o?.size) w.older[slot] = new Map(e.o);
      for (const [item, read] of e.f) {
        const flight = mzxid === undefined ? read : { fireMs: read.fireMs, attempt: read.attempt, token: tokenOf(read, mzxid) };
        const token = flight.token ?? 0n;
        if (isEmpty(w.f, off, n)) {
          w.fire[slot] = flight.fireMs;
          w.attempt[slot] = flight.attempt;
          w.token[slot] = token;
        }
        if (w.fire[slot] === flight.fireMs && w.attempt[slot] === flight.attempt && w.token[slot] === token) setBit(w.f, off, item);
        else this.ownOthers(slot).set(item, flight);
      }
    }
    this.commitWrite();
  }

  /** The part's index is written anew, whole, with its next write (the one in ZooKeeper is not known to be ours). */
  rewriteIndex(part: number): void {
    this.indexUnknown[part] = true;
  }

  /** The job's slot, with room for `item` (a slot that grew is moved to the end of the words). */
  private slotFor(job: string, item: number): number {
    let slot = this.slotOfJob.get(job);
    const need = (item >> 5) + 1;
    if (slot === undefined) {
      slot = this.jobOfSlot.length;
      this.slotOfJob.set(job, slot);
      this.jobOfSlot.push(job);
      const part = ledgerPartOf(job, this.parts);
      this.partOfSlot.push(part);
      this.slotsOfPart[part]!.push(slot);
      this.offset.push(this.wordsUsed);
      this.words.push(need);
      this.wordsUsed += need;
      this.committed.grow(slot + 1 > this.committed.t.length ? (slot + 1) * 2 : 0, this.wordsUsed > this.committed.b.length ? this.wordsUsed * 2 : 0);
      this.working.grow(this.committed.t.length, this.committed.b.length);
      if (this.dirtyMark.length < this.committed.t.length) {
        const mark = new Uint8Array(this.committed.t.length);
        mark.set(this.dirtyMark);
        this.dirtyMark = mark;
      }
      return slot;
    }
    const n = this.words[slot]!;
    if (need > n) {
      // Moved: its words are copied to fresh room at the end (the old room is left unused).
      const from = this.offset[slot]!;
      const to = this.wordsUsed;
      this.wordsUsed += need;
      this.committed.grow(0, this.wordsUsed > this.committed.b.length ? this.wordsUsed * 2 : 0);
      this.working.grow(0, this.committed.b.length);
      for (const s of [this.committed, this.working]) {
        for (const words of [s.b, s.f, s.ob, s.ix]) {
          words.copyWithin(to, from, from + n);
          words.fill(0, from, from + n);
        }
      }
      this.offset[slot] = to;
      this.words[slot] = need;
    }
    return slot;
  }

  private touch(slot: number): void {
    if (this.dirtyMark[slot]) return;
    this.dirtyMark[slot] = 1;
    this.dirty.push(slot);
    this.dirtyByPart = undefined;
  }

  /** The working copy's map of the slot's claims older than its older group (its own, as `ownOthers`). */
  private ownOlder(slot: number): Map<number, number> {
    return (this.working.older[slot] ??= new Map());
  }

  /** The working copy's map of the slot's other runs (its own: `settle` never shares one between the copies). */
  private ownOthers(slot: number): Map<number, LedgerFlight> {
    return (this.working.others[slot] ??= new Map());
  }

  /** Copies the dirty slots from one copy to the other and ends the write. */
  private settle(from: SlotState, to: SlotState): void {
    for (const slot of this.dirty) {
      const off = this.offset[slot]!;
      const n = this.words[slot]!;
      // Nothing claimed, nothing in flight: the job's instant is forgotten with its entry.
      if (from === this.working && isEmpty(from.b, off, n) && isEmpty(from.f, off, n) && !from.others[slot]?.size) from.t[slot] = Number.NaN;
      to.t[slot] = from.t[slot]!;
      to.fire[slot] = from.fire[slot]!;
      to.attempt[slot] = from.attempt[slot]!;
      to.token[slot] = from.token[slot]!;
      to.ot[slot] = from.ot[slot]!;
      copyWords(to.b, from.b, off, n);
      copyWords(to.f, from.f, off, n);
      copyWords(to.ob, from.ob, off, n);
      copyWords(to.ix, from.ix, off, n);
      const others = from.others[slot];
      if (others?.size) to.others[slot] = new Map(others);
      else from.others[slot] = to.others[slot] = undefined;
      const older = from.older[slot];
      if (older?.size) to.older[slot] = new Map(older);
      else from.older[slot] = to.older[slot] = undefined;
      this.dirtyMark[slot] = 0;
    }
    this.dirty = [];
    this.positionsChanged.clear();
    this.indexWritten.clear();
    this.dirtyByPart = undefined;
  }
}
