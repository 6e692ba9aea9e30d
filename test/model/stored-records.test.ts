import { describe, expect, it } from 'vitest';
import { decodeHistory, decodeProgress, encodeHistory, encodeProgress, readProgress, type ProgressRecord, type RecentOutcome } from '../../src/model/progress-record.js';
import { decodeMarker, encodeMarker, type RunningMarker } from '../../src/model/running-marker.js';
import { decodeJob, readJob, encodeJob } from '../../src/model/job-record.js';
import { JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';

const member = 'm-0123456789abcdef-0000000042';

describe('stored run records (compact form)', () => {
  it('round-trips a progress record with and without a run in flight', () => {
    const running: ProgressRecord = {
      lastScheduled: '2026-11-21T10:00:05.000Z',
      lastCompleted: '2026-11-21T10:00:04.000Z',
      inFlight: { fireTime: '2026-11-21T10:00:05.000Z', attempt: 2, member, worker: 'w-1', startedAt: '2026-11-21T10:00:05.012Z' },
      outcome: 'failed',
      attempt: 1,
      durationMs: 37,
      worker: 'w-1',
    };
    expect(decodeProgress(encodeProgress(running))).toEqual(running);
    const done: ProgressRecord = { ...running, inFlight: null, outcome: 'success' };
    expect(decodeProgress(encodeProgress(done))).toEqual(done);
    expect(decodeProgress(encodeProgress({}))).toEqual({});
    // Compact: well below the long form's size.
    expect(encodeProgress(running).length).toBeLessThan(JSON.stringify(running).length * 0.7);
  });

  it("stores who wrote a progress record as its member node's sequence number; a record without a writer keeps its own", () => {
    const written = encodeProgress({ lastScheduled: '2026-01-01T00:00:05.000Z' }, 'm-0123456789abcdef-0000000042');
    expect(JSON.parse(written.toString())).toEqual({ v: 2, s: Date.UTC(2026, 0, 1, 0, 0, 5), b: 42 });
    expect(decodeProgress(written).by).toBe(42);
    expect(decodeProgress(encodeProgress(decodeProgress(written))).by).toBe(42);
    expect(decodeProgress(encodeProgress(decodeProgress(written), 'm-ffff-0000000007')).by).toBe(7);
    const bad = readProgress(Buffer.from('{"v":2,"b":-1}'), '/j/items/0');
    expect(bad.ok ? 'read' : bad.error.message).toMatch(/\bb\b/);
  });

  it('leaves the history out of the progress record and round-trips it on its own', () => {
    const recent: RecentOutcome[] = [
      { fireTime: '2026-11-21T10:00:05.000Z', outcome: 'failed', attempt: 3, worker: 'w-1', durationMs: 12, error: 'boom', at: '2026-11-21T10:00:05.020Z', startedAt: '2026-11-21T10:00:05.001Z' },
      { fireTime: '2026-11-21T10:00:03.000Z', outcome: 'missed', attempt: 0, worker: 'w-2', error: '3 fire(s) missed', at: '2026-11-21T10:00:04.000Z' },
    ];
    expect(decodeProgress(encodeProgress({ worker: 'w', recent })).recent).toBeUndefined();
    expect(decodeHistory(encodeHistory(recent))).toEqual(recent);
    expect(decodeHistory(undefined)).toEqual([]);
  });

  it('round-trips a running marker', () => {
    const m: RunningMarker = { member, worker: 'w-1', fireTime: '2026-11-21T10:00:05.000Z', attempt: 1, startedAt: '2026-11-21T10:00:04.700Z' };
    expect(decodeMarker(encodeMarker(m))).toEqual(m);
  });

  it('still reads the long form earlier versions wrote', () => {
    const long = { lastScheduled: '2026-11-21T10:00:05.000Z', inFlight: null, outcome: 'success', attempt: 1, worker: 'w' };
    expect(decodeProgress(Buffer.from(JSON.stringify(long)))).toEqual(long);
    const recent = [{ fireTime: '2026-11-21T10:00:05.000Z', outcome: 'success', attempt: 1, worker: 'w', at: '2026-11-21T10:00:05.100Z' }];
    expect(decodeHistory(Buffer.from(JSON.stringify({ recent })))).toEqual(recent);
    const marker = { member, worker: 'w', fireTime: '2026-11-21T10:00:05.000Z', attempt: 1, startedAt: '2026-11-21T10:00:05.000Z' };
    expect(decodeMarker(Buffer.from(JSON.stringify(marker)))).toEqual(marker);
    expect(decodeProgress(Buffer.from('not json'))).toEqual({});
  });

  it('round-trips a job definition with sandbox and maxFailovers; one stored without them gets the defaults', () => {
    const def: JobDefinition = { ...JOB_DEFAULTS, name: 'j', cron: '* * * * * *', shards: 2, itemParameters: {}, handler: 'h.js', retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 }, sandbox: 'thread', maxFailovers: 3 };
    expect(decodeJob(encodeJob(def))).toEqual(def);
    const { sandbox: _s, maxFailovers: _m, ...old } = def;
    expect(decodeJob(Buffer.from(JSON.stringify(old)))).toEqual({ ...def, sandbox: 'none', maxFailovers: 1 });
    // A bad value is malformed, as in a config file: the definition is left alone, never defaulted.
    expect(decodeJob(Buffer.from(JSON.stringify({ ...def, sandbox: 'vm', maxFailovers: -2 })))).toBeUndefined();
    const bad = readJob(Buffer.from(JSON.stringify({ ...def, sandbox: 'vm' })), '/jobs/j');
    expect(bad.ok ? undefined : bad.error.reason).toMatch(/sandbox/);
  });
});
