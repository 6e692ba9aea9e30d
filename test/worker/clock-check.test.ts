import { afterEach, describe, expect, it } from 'vitest';
import { ClockCheck, type ClockReading } from '../../src/worker/clock-check.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';

describe('ClockCheck', () => {
  let ctx: ZkTestContext | undefined;
  let clock: ClockCheck | undefined;
  afterEach(async () => {
    clock?.close();
    await ctx?.close();
  });

  it('takes readings from the server time of other writes, and writes /clock only when none came for an interval', async () => {
    ctx = new ZkTestContext('clock-check');
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.root);
    /** The local clock as the check sees it: real time plus a shift the test moves forward. */
    let shift = 0;
    const now = () => Date.now() + shift;
    clock = new ClockCheck(zk, ctx.paths, 5000, silentLogger(), 30_000, now);
    const readings: ClockReading[] = [];
    clock.on('reading', (r) => readings.push(r));
    const first = await clock.start();
    expect(first.ok).toBe(true);
    const writes = async () => (await zk.exists(ctx!.paths.clock))!.version;
    const tick = () => (clock as unknown as { tick(): Promise<void> | undefined }).tick();
    const written = await writes();

    shift += 20_000; // two thirds of an interval: nothing due
    expect(tick()).toBeUndefined();

    // A begin multi's answer: the server's time is 7 s behind this (shifted) clock.
    const sent = now();
    clock.observe(sent, sent + 4, sent + 2 - 7000);
    expect(readings.at(-1)).toMatchObject({ ok: false, skewMs: 7000, maxSkewMs: 5000 });
    shift += 20_000; // 40 s since the last write, 20 s since the observation
    expect(tick()).toBeUndefined();
    expect(await writes()).toBe(written);

    // A slow answer says little about the server's time: ignored.
    const slow = now();
    clock.observe(slow, slow + 3000, slow);
    expect(readings).toHaveLength(2);

    shift += 11_000; // an interval without a reading: the periodic write comes back
    await tick();
    expect(await writes()).toBe(written + 1);
    // Its reading is the server's own: this clock is 51 s ahead of it now.
    expect(readings).toHaveLength(3);
    expect(Math.abs(readings.at(-1)!.skewMs - 51_000)).toBeLessThan(1000);
  });
});
