import { describe, expect, it } from 'vitest';
import { FenceMoves } from '../../src/worker/fence-moves.js';

describe('FenceMoves', () => {
  it("a move whose write also wrote an assignment we read is the leader's; any other move, or one not seen, is not", () => {
    const moves = new FenceMoves();
    moves.assignmentWritten(100n);
    moves.moved(1, 100n); // the leader's publish: assignment and fence at zxid 100
    moves.moved(2, 105n); // our own update, or a forced operation: no assignment at 105
    expect(moves.tookNoRun(0, 1)).toBe(true);
    expect(moves.tookNoRun(0, 2)).toBe(false);
    expect(moves.tookNoRun(1, 2)).toBe(false);
    expect(moves.tookNoRun(2, 2)).toBe(true); // no move at all
    moves.moved(4, 110n); // version 3 was never seen (two writes between our reads): unknown
    moves.assignmentWritten(110n);
    expect(moves.tookNoRun(3, 4)).toBe(true);
    expect(moves.tookNoRun(2, 4)).toBe(false);
  });

  it('an assignment read after the move was seen still tells it (the caches are read after the member node at times)', () => {
    const moves = new FenceMoves();
    moves.moved(1, 200n);
    expect(moves.tookNoRun(0, 1)).toBe(false);
    moves.assignmentWritten(200n);
    expect(moves.tookNoRun(0, 1)).toBe(true);
  });

  it("a move made by our own write (a version-checked write of what the node holds) took no run either; a forced operation's between still did", () => {
    const moves = new FenceMoves();
    // A clock reading published: our write at zxid 300 moved the node from version 0 to 1.
    moves.ownWrite(300n);
    moves.moved(1, 300n);
    expect(moves.tookNoRun(0, 1)).toBe(true);
    // A forced operation fenced us (version 2, zxid 310); our next update then wrote version 3.
    moves.moved(2, 310n);
    moves.moved(3, 320n);
    moves.ownWrite(320n); // told after the move was seen (the watch's read came first)
    expect(moves.tookNoRun(2, 3)).toBe(true);
    expect(moves.tookNoRun(1, 3)).toBe(false); // the forced operation's move may have taken runs
    expect(moves.tookNoRun(0, 3)).toBe(false);
  });

  it('forgets the oldest moves past its bound: a run fenced that long ago reads its marker', () => {
    const moves = new FenceMoves();
    for (let v = 1; v <= 1100; v++) {
      moves.assignmentWritten(BigInt(v));
      moves.moved(v, BigInt(v));
    }
    expect(moves.tookNoRun(1000, 1100)).toBe(true);
    expect(moves.tookNoRun(0, 1100)).toBe(false);
  });
});
