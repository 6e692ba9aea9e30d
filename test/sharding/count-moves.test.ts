import { describe, it, expect } from 'vitest';
import { countMoves } from '../../src/sharding/count-moves.js';

describe('countMoves', () => {
  it('counts items whose previous owner is a string different from the new owner', () => {
    expect(countMoves(['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'a'])).toBe(2);
    expect(countMoves(['a', 'b'], ['a', 'b'])).toBe(0);
  });

  it('does not count items that had no owner', () => {
    expect(countMoves([null, undefined, 'a'], ['a', 'b', 'a'])).toBe(0);
  });

  it('counts an item whose owner became null', () => {
    expect(countMoves(['a', 'b'], [null, null])).toBe(2);
  });

  it('only looks at items below after.length', () => {
    expect(countMoves(['a', 'a', 'a', 'a'], ['b', 'b'])).toBe(2);
    expect(countMoves(['a'], ['b', 'b', 'b'])).toBe(1);
  });

  it('with live workers, ignores items of departed owners (reassignments, not moves)', () => {
    const live = [{ id: 'a', capacity: 1 }, { id: 'b', capacity: 1 }];
    expect(countMoves(['gone', 'a', 'b', 'gone'], ['a', 'b', 'b', 'b'])).toBe(3);
    expect(countMoves(['gone', 'a', 'b', 'gone'], ['a', 'b', 'b', 'b'], live)).toBe(1);
    expect(countMoves(['a'], ['b'], [])).toBe(0);
  });
});
