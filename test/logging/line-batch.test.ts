import { describe, expect, it } from 'vitest';
import { LineBatch } from '../../src/logging/line-batch.js';
import type { TimerHandle } from '../../src/clock/clock.js';

describe('LineBatch', () => {
  it('writes what one turn gathered as one line, and nothing for a turn with none', () => {
    const turns: Array<() => void> = [];
    const timers = { setImmediate: (fn: () => void) => (turns.push(fn), {} as TimerHandle) };
    const lines: number[][] = [];
    const batch = new LineBatch<number>((entries) => lines.push(entries), timers);
    for (let i = 0; i < 20_000; i++) batch.add(i);
    expect(turns).toHaveLength(1); // one turn asked for, however many entries
    turns.shift()!();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveLength(20_000);
    batch.add(7);
    batch.flush(); // written at once
    turns.shift()!(); // the turn it had asked for finds nothing
    expect(lines).toEqual([expect.any(Array), [7]]);
  });
});
