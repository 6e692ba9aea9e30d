import { describe, expect, it } from 'vitest';
import { newerItemState, sameItemState, type ItemState } from '../../src/console/item-state.js';
import type { ZkStat } from '../../src/zk/zk-stat.js';

const state = (czxid: bigint, mzxid: bigint, readSeq?: number): ItemState => ({ progress: { data: Buffer.alloc(0), stat: { czxid, mzxid } as ZkStat }, readSeq });

describe('item states as read by the console', () => {
  it('a later write, a node made anew, one gone or come, or the same write read later is newer; an older write never is', () => {
    expect(newerItemState(state(1n, 5n), state(1n, 6n))).toBe(true);
    expect(newerItemState(state(1n, 6n), state(1n, 5n))).toBe(false); // a read overtaken by a newer one
    expect(newerItemState(state(1n, 6n, 3), state(1n, 6n, 4))).toBe(true); // the same write, read after a ledger part
    expect(newerItemState(state(1n, 6n, 4), state(1n, 6n))).toBe(false); // a watch's read of it says no more
    expect(newerItemState(state(1n, 6n), state(7n, 7n))).toBe(true);
    expect(newerItemState(state(7n, 7n), state(1n, 9n))).toBe(false); // an earlier node of that name
    expect(newerItemState(state(1n, 6n), { progress: null })).toBe(true);
    expect(newerItemState({ progress: null, readSeq: 2 }, { progress: null, readSeq: 3 })).toBe(true);
    expect(sameItemState(state(1n, 6n, 3), state(1n, 6n, 4))).toBe(true); // the same versions: no change to tell
  });
});
