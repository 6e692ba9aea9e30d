import { afterEach, describe, expect, it } from 'vitest';
import { ClockCheck, type ClockReading } from '../../src/worker/clock-check.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { FakeClock, settle } from '../support/fake-clock.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';

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

  // Found by the fleet simulation (seed 132): a forward step of the wall clock let a fire timer take
  // instants still to come for due ones until the next reading, up to 30 s later.
  it('tells a step of the local clock since the last reading from the monotonic clock, and reads the server at once', async () => {
    const time = new FakeClock(Date.UTC(2026, 0, 1));
    let wallStep = 0;
    let serverWrites = 0;
    const zk = {
      createIfAbsent: async () => undefined,
      setData: async () => {
        serverWrites++;
        return { mtime: time.monotonic() } as never; // the server's clock runs with the monotonic one
      },
    };
    clock = new ClockCheck(zk as never, new ZkPaths('ns'), 5000, silentLogger(), 30_000, () => time.now() + wallStep, time);
    const readings: ClockReading[] = [];
    clock.on('reading', (r) => readings.push(r));
    expect((await clock.start()).ok).toBe(true);
    expect(clock.trustNow()).toBe(true);
    wallStep = 3000; // within maxClockSkewMs: still trusted, no I/O
    expect(clock.trustNow()).toBe(true);
    expect(serverWrites).toBe(1);
    wallStep = 6000; // past it: not trusted, and ZooKeeper's clock is read right away
    expect(clock.trustNow()).toBe(false);
    await settle();
    expect(serverWrites).toBe(2);
    expect(readings.at(-1)).toMatchObject({ ok: false, skewMs: 6000 });
    expect(clock.trustNow()).toBe(false);
    wallStep = 0; // stepped back: trusted once a reading (taken at once) says so
    expect(clock.trustNow()).toBe(false);
    await settle();
    expect(serverWrites).toBe(3);
    expect(clock.trustNow()).toBe(true);
  });
});
