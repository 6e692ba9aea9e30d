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
});
