import { describe, expect, it } from 'vitest';
import { waitFor, WaitForTimeoutError } from '../support/wait-for.js';

describe('waitFor', () => {
  it('resolves with the first truthy value of a sync or async condition', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? `done after ${n}` : undefined), { intervalMs: 1 })).toBe('done after 3');
    expect(await waitFor(async () => 42)).toBe(42);
  });

  it('times out with the message and the last result', async () => {
    const leaders = 0;
    const err = await waitFor(() => leaders, { timeoutMs: 100, intervalMs: 10, message: () => `a leader (have ${leaders})` }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WaitForTimeoutError);
    expect((err as Error).message).toBe('timed out after 100 ms waiting for a leader (have 0); last result: 0');
  });

  it('counts a throwing condition as not yet, and reports its last error as the cause', async () => {
    let n = 0;
    expect(
      await waitFor(
        () => {
          if (++n < 3) throw new Error('not yet');
          return true;
        },
        { intervalMs: 1 },
      ),
    ).toBe(true);

    const err = await waitFor(() => Promise.reject(new Error('ECONNREFUSED')), { timeoutMs: 50, intervalMs: 5 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/waiting for condition; last error: ECONNREFUSED$/);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('keeps its deadline even when the condition never settles', async () => {
    const started = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 100 })).rejects.toBeInstanceOf(WaitForTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('stops at once when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = waitFor(() => false, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort(new Error('server exited'));
    await expect(waiting).rejects.toThrow('server exited');
  });
});
