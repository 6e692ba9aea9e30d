import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { Executor, type FireRequest } from '../../../src/executor/executor.js';
import type { BeginRequest, BeginResult, ReleaseRequest } from '../../../src/executor/run-ledger.js';
import { HandlerLoader } from '../../../src/executor/handler-loader.js';
import type { StageStore } from '../../../src/executor/stage-store.js';
import { SandboxRunner } from '../../../src/executor/sandbox/sandbox-runner.js';
import { JOB_DEFAULTS, type JobDefinition, type SandboxMode } from '../../../src/config/job-definition.js';
import { waitFor } from '../../support/wait-for.js';

const PROBE = resolve(import.meta.dirname, '..', '..', 'fixtures', 'handlers', 'sandbox-probe.js');

/** A ledger that grants every begin and keeps the releases (this is about where the handler runs, not ZooKeeper). */
class RecordingLedger {
  readonly releases: ReleaseRequest[] = [];
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    return requests.map(() => ({ status: 'started', token: '7', notes: {} }));
  }
  releaseThen(req: ReleaseRequest, done: (written: boolean) => void): void {
    this.releases.push(req);
    queueMicrotask(() => done(true));
  }
  async recordAttempt(): Promise<void> {}
  fenceMoved(): boolean {
    return false;
  }
  async confirmFence(): Promise<boolean> {
    return true;
  }
}

describe('Executor with sandbox: thread | process', () => {
  let runner: SandboxRunner;
  beforeAll(() => {
    runner = new SandboxRunner({ log: pino({ level: 'silent' }), abortGraceMs: 200 });
    runner.start();
  });
  afterAll(() => runner.close());

  function setUp(sandbox: SandboxMode, jobParameter: Record<string, unknown>, extra: Partial<JobDefinition> = {}, withRunner = true) {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const ledger = new RecordingLedger();
    const def: JobDefinition = {
      ...JOB_DEFAULTS, name: 'probe', cron: '* * * * * *', shards: 2, itemParameters: { 1: 'one' }, handler: PROBE, sandbox,
      jobParameter: JSON.stringify(jobParameter), retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 10 }, ...extra,
    };
    const executor = new Executor({
      ledger,
      stages: { forRun: () => ({}) } as unknown as StageStore,
      loader: new HandlerLoader(dirname(PROBE)),
      workerId: 'w-1',
      definitionOf: () => def,
      log,
      sandbox: withRunner ? runner : undefined,
    });
    const fire = (): Promise<void> => executor.fire([{ job: 'probe', item: 1, fireTime: new Date(), attempt: 1, reason: 'schedule' } satisfies FireRequest]);
    return { ledger, lines, fire };
  }

  it.each<SandboxMode>(['thread', 'process'])('runs the handler of a job with sandbox: %s there, with the run\'s context and logger', async (sandbox) => {
    const { ledger, lines, fire } = setUp(sandbox, { mode: 'facts' });
    await fire();
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    expect(ledger.releases[0]).toMatchObject({ outcome: 'success', attempt: 1 });
    const line = lines.find((l) => l.msg === 'facts')!;
    expect(line).toMatchObject({ job: 'probe', item: 1, fire: expect.stringMatching(/^probe@.*#1$/) as unknown, attempt: 1, facts: { itemParameter: 'one', fencingToken: '7', workerId: 'w-1' } });
    const where = line.where as { pid: number; threadId: number };
    if (sandbox === 'thread') expect(where.threadId).toBeGreaterThan(0);
    else expect(where.pid).not.toBe(process.pid);
  });

  it('records a timeout when the job\'s timeoutMs ends a sandboxed handler that ignores its signal', async () => {
    const { ledger, fire } = setUp('thread', { mode: 'ignore-abort' }, { timeoutMs: 200 });
    const started = Date.now();
    await fire();
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    expect(ledger.releases[0]).toMatchObject({ outcome: 'timeout', error: expect.stringMatching(/ended after abort \(run exceeded timeoutMs \(200 ms\)\)/) as unknown });
    expect(Date.now() - started).toBeLessThan(200 + 200 + 2000);
  });

  it('fails the attempt, saying why, when the worker has no sandbox runner (it never runs the handler in-process instead)', async () => {
    const { ledger, lines, fire } = setUp('thread', { mode: 'facts' }, {}, false);
    await fire();
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    expect(ledger.releases[0]).toMatchObject({ outcome: 'failed', error: 'job probe has sandbox: thread, but this worker runs no sandboxes' });
    expect(lines.some((l) => l.msg === 'facts')).toBe(false);
  });
});
