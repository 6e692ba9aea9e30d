import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import { SandboxRunner } from '../../../src/executor/sandbox/sandbox-runner.js';
import type { SandboxKind } from '../../../src/executor/sandbox/sandbox-host.js';
import { fireIdOf, type JobContext } from '../../../src/executor/job-context.js';
import { StageStore, type RunStages } from '../../../src/executor/stage-store.js';
import { LeaseLostError } from '../../../src/errors/lease-lost-error.js';
import { RunTimeoutError } from '../../../src/errors/run-timeout-error.js';
import { ShutdownError } from '../../../src/errors/shutdown-error.js';
import { decodeJson } from '../../../src/model/json-codec.js';
import type { ZkClient } from '../../../src/zk/zk-client.js';
import { ZkTestContext } from '../../support/zk-test-client.js';
import { waitFor } from '../../support/wait-for.js';

const PROBE = resolve(import.meta.dirname, '..', '..', 'fixtures', 'handlers', 'sandbox-probe.js');
const GRACE_MS = 300;

type Line = Record<string, unknown> & { msg?: string; level: number };

/** A run's context as the executor makes it: its logger carries the run's bindings; lines are kept. */
function context(jobParameter: Record<string, unknown>, extra: { attempt?: number; signal?: AbortSignal; stages?: RunStages } = {}) {
  const lines: Line[] = [];
  const root = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Line) });
  const fireTime = new Date('2026-12-02T10:00:05.000Z');
  const attempt = extra.attempt ?? 1;
  const log: Logger = root.child({ job: 'probe', item: 2, fire: fireIdOf('probe', fireTime, 2), attempt });
  const ctx: JobContext = {
    job: 'probe', item: 2, itemParameter: 'shanghai', jobParameter: JSON.stringify(jobParameter), shards: 4, fireTime,
    fireId: fireIdOf('probe', fireTime, 2), attempt, workerId: 'w-1', fencingToken: '4294967301', startedAt: new Date('2026-12-02T10:00:05.003Z'),
    signal: extra.signal ?? new AbortController().signal,
    log,
    stage: (name, fn) => (extra.stages ? extra.stages.stage(name, fn) : Promise.reject(new Error('no stages in this test'))),
  };
  return { ctx, lines, messages: () => lines.map((l) => l.msg) };
}

describe.each<SandboxKind>(['thread', 'process'])('sandbox: %s', (kind) => {
  let runner: SandboxRunner;
  const run = (ctx: JobContext) => runner.handler(kind, PROBE)(ctx);
  const where = async (): Promise<unknown> => {
    const c = context({ mode: 'facts' });
    await run(c.ctx);
    return c.lines.find((l) => l.msg === 'facts')!.where;
  };

  beforeAll(() => {
    runner = new SandboxRunner({ log: pino({ level: 'info' }), prewarm: [kind], abortGraceMs: GRACE_MS });
    runner.start();
  });
  afterAll(async () => {
    const pool = runner.pool(kind);
    expect(pool.size).toBeGreaterThan(0);
    await runner.close();
    await runner.close(); // idempotent
    expect(pool.size).toBe(0); // every sandbox ended
  });

  it('gives the handler every fact of ctx and forwards its log lines with the run\'s bindings, at the worker\'s level', async () => {
    const { ctx, lines } = context({ mode: 'facts' });
    await run(ctx);
    const line = lines.find((l) => l.msg === 'facts')!;
    expect(line).toMatchObject({ level: 30, job: 'probe', item: 2, fire: 'probe@2026-12-02T10:00:05.000Z#2', attempt: 1 });
    expect(line.facts).toEqual({
      job: 'probe', item: 2, itemParameter: 'shanghai', jobParameter: '{"mode":"facts"}', shards: 4, fireTime: '2026-12-02T10:00:05.000Z',
      isDate: true, fireId: 'probe@2026-12-02T10:00:05.000Z#2', attempt: 1, workerId: 'w-1', fencingToken: '4294967301',
      startedAt: '2026-12-02T10:00:05.003Z',
    });
    // Off the worker's event loop: another thread, or another process.
    const at = line.where as { pid: number; threadId: number };
    if (kind === 'thread') expect(at).toEqual({ pid: process.pid, threadId: expect.any(Number) as number }), expect(at.threadId).toBeGreaterThan(0);
    else expect(at.pid).not.toBe(process.pid);
    expect(lines.some((l) => l.msg === 'a debug line')).toBe(false); // below the level: not even sent
  });

  it('keeps the sandbox warm: the next run finds the same one', async () => {
    expect(await where()).toEqual(await where());
  });

  it('fails the attempt with the handler\'s error, and the sandbox serves the next run', async () => {
    const before = await where();
    await expect(run(context({ mode: 'throw' }).ctx)).rejects.toThrow('handler says no');
    expect(await where()).toEqual(before);
  });

  describe('stages (the store is the worker\'s, in ZooKeeper)', () => {
    let zkt: ZkTestContext;
    let zk: ZkClient;
    let store: StageStore;
    beforeAll(async () => {
      zkt = new ZkTestContext(`sandbox-stages-${kind}`);
      zk = await zkt.client();
      await zk.mkdirp(zkt.paths.item('probe', 2));
      await zk.create(zkt.paths.running('probe', 2), undefined, 'ephemeral');
      store = new StageStore(zk, zkt.paths);
    });
    afterAll(() => zkt.close());

    it('runs each stage once per fire: an attempt after a failure skips the completed one and gets its result', async () => {
      const fireId = fireIdOf('probe', new Date('2026-12-02T10:00:05.000Z'), 2);
      const first = context({ mode: 'stages', failAfter: 'a' }, { stages: store.forRun('probe', 2, fireId, new Date(0)) });
      await expect(run(first.ctx)).rejects.toThrow('failing after stage a');
      expect(first.lines.filter((l) => l.msg === 'stage ran').map((l) => l.stage)).toEqual(['a']);
      // Recorded by the worker before the handler went on (it threw right after).
      const record = decodeJson<{ done: Record<string, { result: unknown }> }>((await zk.getDataIfExists(zkt.paths.stages('probe', 2)))?.data);
      expect(record?.done.a?.result).toEqual({ rows: 3 });

      const second = context({ mode: 'stages', failAfter: 'a' }, { attempt: 2, stages: store.forRun('probe', 2, fireId, new Date(0)) });
      await run(second.ctx);
      expect(second.lines.filter((l) => l.msg === 'stage ran').map((l) => l.stage)).toEqual(['b']);
      expect(second.lines.find((l) => l.msg === 'stages returned')).toMatchObject({ a: { rows: 3 }, b: 'b-done' });
      const after = decodeJson<{ done: Record<string, unknown> }>((await zk.getDataIfExists(zkt.paths.stages('probe', 2)))?.data);
      expect(Object.keys(after!.done).sort()).toEqual(['a', 'b']);
    });

    it('fails the stage (and the attempt) when the worker refuses it: a bad name', async () => {
      const c = context({ mode: 'stages', badStage: true }, { stages: store.forRun('probe', 2, 'other-fire', new Date(0)) });
      await expect(run(c.ctx)).rejects.toThrow(/stage name must match/);
    });
  });

  it('aborts the handler\'s ctx.signal with the reason (its class and code), and a handler that ends in time keeps its sandbox', async () => {
    const before = await where();
    const abort = new AbortController();
    const c = context({ mode: 'wait-abort' }, { signal: abort.signal });
    const running = run(c.ctx);
    await waitFor(() => c.lines.some((l) => l.msg === 'waiting'), { message: 'handler waiting' });
    abort.abort(new ShutdownError());
    await expect(running).rejects.toMatchObject({ code: 'SHUTDOWN', message: 'worker shutting down: grace period over' });
    expect(c.lines.find((l) => l.msg === 'aborted')).toMatchObject({ level: 40, code: 'SHUTDOWN', name: 'ShutdownError', isError: true });
    expect(await where()).toEqual(before);
  });

  it('kills a handler that ignores the abort once the grace is over; the pool replaces the sandbox', async () => {
    const before = await where();
    const abort = new AbortController();
    const c = context({ mode: 'ignore-abort' }, { signal: abort.signal });
    const running = run(c.ctx);
    await waitFor(() => c.lines.some((l) => l.msg === 'spinning'), { message: 'handler spinning' });
    const abortedAt = performance.now();
    abort.abort(new RunTimeoutError(50));
    await expect(running).rejects.toMatchObject({ code: 'SANDBOX_KILLED' });
    const tookMs = performance.now() - abortedAt;
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_MS - 5);
    expect(tookMs).toBeLessThan(GRACE_MS + 1000);
    const next = await where();
    expect(next).not.toEqual(before);
  });

  it('kills at once on lease loss, without waiting for the grace', async () => {
    const slow = new SandboxRunner({ log: pino({ level: 'info' }), abortGraceMs: 60_000 });
    slow.start();
    try {
      const abort = new AbortController();
      const c = context({ mode: 'ignore-abort' }, { signal: abort.signal });
      const running = slow.handler(kind, PROBE)(c.ctx);
      await waitFor(() => c.lines.some((l) => l.msg === 'spinning'), { message: 'handler spinning' });
      const abortedAt = performance.now();
      abort.abort(new LeaseLostError());
      await expect(running).rejects.toMatchObject({ code: 'SANDBOX_KILLED', cause: expect.any(LeaseLostError) as unknown });
      expect(performance.now() - abortedAt).toBeLessThan(1000);
    } finally {
      await slow.close();
    }
  });

  it('never lets an abort\'s grace run past the lease', async () => {
    const bounded = new SandboxRunner({ log: pino({ level: 'info' }), abortGraceMs: 5000, leaseRemainingMs: () => 100 });
    bounded.start();
    try {
      const abort = new AbortController();
      const c = context({ mode: 'ignore-abort' }, { signal: abort.signal });
      const running = bounded.handler(kind, PROBE)(c.ctx);
      await waitFor(() => c.lines.some((l) => l.msg === 'spinning'), { message: 'handler spinning' });
      const abortedAt = performance.now();
      abort.abort(new ShutdownError());
      await expect(running).rejects.toMatchObject({ code: 'SANDBOX_KILLED' });
      expect(performance.now() - abortedAt).toBeLessThan(100 + 1000);
    } finally {
      await bounded.close();
    }
  });

  it.each([
    ['an uncaught exception', 'crash', kind === 'thread' ? /thread exited with code 1: uncaught in the sandbox/ : /process exited with code 1/],
    ['process.exit(3)', 'exit', /exited with code 3/],
  ])('fails the attempt when the sandbox dies (%s); the pool recovers', async (_what, mode, message) => {
    const before = await where();
    await expect(run(context({ mode }).ctx)).rejects.toMatchObject({ code: 'SANDBOX_CRASHED', message: expect.stringMatching(message) as unknown });
    const next = await where();
    expect(next).not.toEqual(before);
  });

  it('fails the attempt of a module that cannot be loaded, naming it', async () => {
    const missing = join(import.meta.dirname, 'no-such-handler.js');
    await expect(runner.handler(kind, missing)(context({}).ctx)).rejects.toThrow(/cannot load .*no-such-handler\.js/);
  });
});

describe('SandboxRunner lifecycle', () => {
  let runner: SandboxRunner | undefined;
  afterEach(async () => runner?.close());

  it('fails the runs still in a sandbox when it closes, and refuses new ones', async () => {
    runner = new SandboxRunner({ log: pino({ level: 'info' }, { write: () => {} }) });
    runner.start();
    const c = context({ mode: 'ignore-abort' });
    const running = runner.handler('thread', PROBE)(c.ctx);
    await waitFor(() => c.lines.some((l) => l.msg === 'spinning'), { message: 'handler spinning' });
    await runner.close();
    await expect(running).rejects.toMatchObject({ code: 'SANDBOX_CLOSED' });
    expect(() => runner!.handler('thread', PROBE)(context({ mode: 'facts' }).ctx)).toThrow(/used when closed/);
  });

  it('starts at most maxSandboxes: a further run waits for a free one (and gives up when its signal aborts)', async () => {
    runner = new SandboxRunner({ log: pino({ level: 'info' }, { write: () => {} }), maxSandboxes: 1 });
    runner.start();
    const run = (c: ReturnType<typeof context>) => runner!.handler('thread', PROBE)(c.ctx);
    const holdAbort = new AbortController();
    const holder = context({ mode: 'wait-abort' }, { signal: holdAbort.signal });
    const holding = run(holder);
    await waitFor(() => holder.lines.some((l) => l.msg === 'waiting'), { message: 'first run holds the only sandbox' });
    const queued = context({ mode: 'facts' });
    const queuedRun = run(queued);
    const giveUpAbort = new AbortController();
    const givingUp = run(context({ mode: 'facts' }, { signal: giveUpAbort.signal }));
    giveUpAbort.abort(new ShutdownError());
    await expect(givingUp).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(queued.lines).toEqual([]); // still waiting
    expect(runner.pool('thread').size).toBe(1);
    holdAbort.abort(new ShutdownError());
    await expect(holding).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await queuedRun;
    const waiting = holder.lines.find((l) => l.msg === 'waiting')!;
    expect(queued.lines.find((l) => l.msg === 'facts')!.where).toEqual({ pid: waiting.pid, threadId: waiting.threadId }); // handed the same sandbox
    expect(runner.pool('thread').size).toBe(1);
  });

  it('fails the attempt of a thread that runs out of memory (its heap limit), and the next run gets a new thread', async () => {
    runner = new SandboxRunner({ log: pino({ level: 'info' }, { write: () => {} }), resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
    runner.start();
    await expect(runner.handler('thread', PROBE)(context({ mode: 'oom' }).ctx)).rejects.toMatchObject({ code: 'SANDBOX_CRASHED', message: expect.stringMatching(/out of memory/i) as unknown });
    const c = context({ mode: 'facts' });
    await runner.handler('thread', PROBE)(c.ctx);
    expect(c.lines.some((l) => l.msg === 'facts')).toBe(true);
  });

  it('close() waits for idle sandboxes to end even when nothing else keeps the process alive', async () => {
    // A process of its own: in this one, vitest's handles would keep the event loop alive anyway.
    const dist = (file: string) => pathToFileURL(resolve(import.meta.dirname, '..', '..', '..', 'dist', 'src', file)).href;
    const script = `
      import { SandboxRunner } from ${JSON.stringify(dist('executor/sandbox/sandbox-runner.js'))};
      import { silentLogger } from ${JSON.stringify(dist('logging/create-logger.js'))};
      const ctx = { job: 'j', item: 0, jobParameter: '{"mode":"facts"}', shards: 1, fireTime: new Date(), fireId: 'f', attempt: 1, workerId: 'w', fencingToken: '1', startedAt: new Date(), signal: new AbortController().signal, log: silentLogger() };
      for (const kind of ['thread', 'process']) {
        const runner = new SandboxRunner({ log: silentLogger(), prewarm: [kind] });
        runner.start();
        await runner.handler(kind, ${JSON.stringify(PROBE)})(ctx);
        await runner.close();
        console.log(kind, 'closed');
      }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim().split('\n')).toEqual(['thread closed', 'process closed']);
  });
});
