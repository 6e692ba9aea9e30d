import { HEX_BYTES, type LedgerFlight } from '../model/member-ledger.js';

/*
 * The state of a member's ledger by job slot (`LedgerTable`): typed arrays indexed by slot, and
 * bitmaps of 32-bit words per slot at the slot's offset, with the helpers that read and write them.
 */

/** Bits per bitmap word. */
export const WORD_BITS = 32;

/** One copy of every slot's state. */
export class SlotState {
  /** The latest instant begun (fire ms); NaN: none. */
  t: Float64Array;
  /**
   * The fire, first attempt and token of the slot's main group of runs in flight (its `f` bits);
   * token 0: begun by the write in progress (set from the write's zxid when it is committed).
   */
  fire: Float64Array;
  attempt: Uint32Array;
  token: BigInt64Array;
  /** Bitmap words of the items begun at `t`, then of the main group in flight: `words[slot]` each, at `offset[slot]`. */
  b: Uint32Array;
  f: Uint32Array;
  /** Runs in flight on another fire or attempt than the main group (a re-run beside a scheduled run): rare. */
  others: Array<Map<number, LedgerFlight> | undefined> = [];
  /**
   * Older claims (run protocol v2, step 4c): `ob`, the items claimed at `ot` (the instant before
   * `t`) and not begun at `t` since — at a new instant `b` becomes `ob`, and each begin of the
   * instant clears its item's bit, so a write of the steady state leaves `ob` empty — and the
   * claims older still in a small map (an item skipped two instants running): rare.
   */
  ot: Float64Array;
  ob: Uint32Array;
  older: Array<Map<number, number> | undefined> = [];
  /** The items that have a position in their part's index. */
  ix: Uint32Array;

  constructor(slots: number, words: number) {
    this.t = new Float64Array(slots).fill(Number.NaN);
    this.fire = new Float64Array(slots);
    this.attempt = new Uint32Array(slots);
    this.token = new BigInt64Array(slots);
    this.ot = new Float64Array(slots).fill(Number.NaN);
    this.b = new Uint32Array(words);
    this.f = new Uint32Array(words);
    this.ob = new Uint32Array(words);
    this.ix = new Uint32Array(words);
  }

  grow(slots: number, words: number): void {
    if (slots > this.t.length) {
      const t = new Float64Array(slots).fill(Number.NaN);
      t.set(this.t);
      this.t = t;
      this.fire = copyInto(new Float64Array(slots), this.fire);
      this.attempt = copyInto(new Uint32Array(slots), this.attempt);
      this.token = copyInto(new BigInt64Array(slots), this.token);
      const ot = new Float64Array(slots).fill(Number.NaN);
      ot.set(this.ot);
      this.ot = ot;
    }
    if (words > this.b.length) {
      this.b = copyInto(new Uint32Array(words), this.b);
      this.f = copyInto(new Uint32Array(words), this.f);
      this.ob = copyInto(new Uint32Array(words), this.ob);
      this.ix = copyInto(new Uint32Array(words), this.ix);
    }
  }
}

function copyInto<T extends Float64Array | Uint32Array | BigInt64Array>(into: T, from: T): T {
  into.set(from as never);
  return into;
}

export function hasBit(words: Uint32Array, off: number, n: number, item: number): boolean {
  const k = item >> 5;
  return k < n && (words[off + k]! & (1 << (item & 31))) !== 0;
}

export function setBit(words: Uint32Array, off: number, item: number): void {
  words[off + (item >> 5)]! |= 1 << (item & 31);
}

export function clearBit(words: Uint32Array, off: number, item: number): void {
  words[off + (item >> 5)]! &= ~(1 << (item & 31));
}

/** Copies words `off`..`off + n` of `from` into `into`, in place (no view made: a slot's words are copied at every ledger write). */
export function copyWords(into: Uint32Array, from: Uint32Array, off: number, n: number): void {
  for (let k = off; k < off + n; k++) into[k] = from[k]!;
}

export function isEmpty(words: Uint32Array, off: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (words[off + k] !== 0) return false;
  return true;
}

export function forEachBit(words: Uint32Array, off: number, n: number, fn: (item: number) => void): void {
  for (let k = 0; k < n; k++) {
    let word = words[off + k]!;
    while (word !== 0) {
      const low = word & -word;
      fn(k * WORD_BITS + 31 - Math.clz32(low));
      word ^= low;
    }
  }
}

export function flightOf(s: SlotState, slot: number, item: number, off: number, n: number): LedgerFlight | undefined {
  if (hasBit(s.f, off, n, item)) return mainFlight(s, slot);
  return s.others[slot]?.get(item);
}

/** The slot's main group of runs in flight (its token left out while it is the write in progress's). */
export function mainFlight(s: SlotState, slot: number): LedgerFlight {
  const token = s.token[slot]!;
  return token === 0n ? { fireMs: s.fire[slot]!, attempt: s.attempt[slot]! } : { fireMs: s.fire[slot]!, attempt: s.attempt[slot]!, token };
}

/** Bytes as hex up to the last non-zero one ('' when all are zero). */
export function hexOfBytes(bytes: Uint8Array): string {
  let last = bytes.length - 1;
  while (last >= 0 && bytes[last] === 0) last--;
  let hex = '';
  for (let k = 0; k <= last; k++) hex += HEX_BYTES[bytes[k]!]!;
  return hex;
}
