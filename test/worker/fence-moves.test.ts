import { describe, expect, it } from 'vitest';
import { FenceMoves } from '../../src/worker/fence-moves.js';

describe('FenceMoves', () => {
  it("a move whose write also wrote an assignment we read is the leader's; any other move, or one not seen, is not", () => {
    const moves = new FenceMoves();
    moves.assignmentWritten(100n);
    moves.moved(1, 100n); // the leader's publish: assignment and fence at zxid 100
    moves.moved(2, 105n); // our own update, or a forced operation: no assignment at 105
    expect(moves.leaderOnly(0, 1)).toBe(true);
    expect(moves.leaderOnly(0, 2)).toBe(false);
    expect(moves.leaderOnly(1, 2)).toBe(false);
    expect(moves.leaderOnly(2, 2)).toBe(true); // no move at all
    moves.moved(4, 110n); // version 3 was never seen (two writes between our reads): unknown
    moves.assignmentWritten(110n);
    expect(moves.leaderOnly(3, 4)).toBe(true);
    expect(moves.leaderOnly(2, 4)).toBe(false);
  });

  it('an assignment read after the move was seen still tells it (the caches are read after the member node at times)', () => {
    const moves = new FenceMoves();
    moves.moved(1, 200n);
    expect(moves.leaderOnly(0, 1)).toBe(false);
    moves.assignmentWritten(200n);
    expect(moves.leaderOnly(0, 1)).toBe(true);
  });

  it('forgets the oldest moves past its bound: a run fenced that long ago reads its marker', () => {
    const moves = new FenceMoves();
    for (let v = 1; v <= 1100; v++) {
      moves.assignmentWritten(BigInt(v));
      moves.moved(v, BigInt(v));
    }
    expect(moves.leaderOnly(1000, 1100)).toBe(true);
    expect(moves.leaderOnly(0, 1100)).toBe(false);
  });
});
