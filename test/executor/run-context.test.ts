import { describe, expect, it } from 'vitest';
import { RunContext } from '../../src/executor/run-context.js';
import { RunAbort } from '../../src/executor/run-abort.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { RunStages } from '../../src/executor/stage-store.js';

const fields = { job: 'j', item: 3, itemParameter: 'p3', jobParameter: 'x', shards: 8, fireTime: new Date(0), fireId: 'j@1970-01-01T00:00:00.000Z#3', attempt: 1, workerId: 'w', fencingToken: '42' };

describe('RunContext', () => {
  it('is a JobContext whose members still work when destructured, and whose own keys are its fields and stage only', async () => {
    const abort = new RunAbort();
    const log = silentLogger();
    const stages = { stage: async <T>(name: string, fn: () => Promise<T> | T) => `${name}:${String(await fn())}` } as unknown as RunStages;
    const ctx = new RunContext(fields, abort, { log: () => log }, stages);
    const { job, item, fencingToken, stage, log: ctxLog, signal } = ctx;
    expect([job, item, fencingToken]).toEqual(['j', 3, '42']);
    expect(await stage('fetch', () => 7)).toBe('fetch:7');
    expect(ctxLog).toBe(log);
    expect(signal.aborted).toBe(false);
    abort.abort(new Error('timeout'));
    expect(signal.aborted).toBe(true);
    expect(Object.keys(ctx).sort()).toEqual([...Object.keys(fields), 'stage'].sort());
    expect(JSON.parse(JSON.stringify(ctx))).toEqual({ ...fields, fireTime: fields.fireTime.toISOString() });
  });

  it('says when the executor entered the handler, as a Date made on read', () => {
    const ctx = new RunContext(fields, new RunAbort(), { log: () => silentLogger() }, {} as RunStages);
    ctx.entered(Date.UTC(2026, 11, 7, 21, 3, 39));
    expect(ctx.startedAt).toEqual(new Date('2026-12-07T21:03:39.000Z'));
    expect(ctx.startedAt).not.toBe(ctx.startedAt); // a new Date each read: a handler may change its own
  });
});
