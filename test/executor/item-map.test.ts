import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ItemMap } from '../../src/executor/item-map.js';

describe('ItemMap', () => {
  it('behaves as a Map keyed by job and item (property: random sets and deletes)', () => {
    const op = fc.record({ del: fc.boolean(), job: fc.constantFrom('a', 'b', 'a#1', ''), item: fc.integer({ min: 0, max: 5 }), value: fc.integer() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const m = new ItemMap<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          const key = JSON.stringify([o.job, o.item]);
          if (o.del) expect(m.delete(o.job, o.item)).toBe(model.delete(key));
          else {
            m.set(o.job, o.item, o.value);
            model.set(key, o.value);
          }
          expect(m.size).toBe(model.size);
          expect(m.get(o.job, o.item)).toBe(model.get(key));
          expect(m.has(o.job, o.item)).toBe(model.has(key));
        }
        expect(new Map([...m.entries()].map(([job, item, v]) => [JSON.stringify([job, item]), v]))).toEqual(model);
        const visited: [string, number, number][] = [];
        m.forEach((v, job, item) => visited.push([job, item, v]));
        expect(visited).toEqual([...m.entries()]);
      }),
    );
  });

  it('keeps a deleted key for the next set, and drops vacant keys beyond twice the most held plus a slack', () => {
    const m = new ItemMap<number>();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) m.set('a', i, round);
      for (let i = 0; i < 100; i++) expect(m.delete('a', i)).toBe(true);
      expect(m.delete('a', 0)).toBe(false);
      expect(m.size).toBe(0);
      expect(m.keysKept).toBe(100); // the same keys, every round
    }
    expect(m.get('a', 5)).toBeUndefined();
    expect(m.has('a', 5)).toBe(false);
    // Items that go and never come back (moved to other workers): kept no more than 2 × 100 + 1024.
    for (let i = 0; i < 5000; i++) {
      m.set('b', i, i);
      m.delete('b', i);
      expect(m.keysKept).toBeLessThanOrEqual(2 * 100 + 1024 + 1);
    }
    m.set('c', 1, 7);
    expect([...m.entries()]).toEqual([['c', 1, 7]]);
  });
});
