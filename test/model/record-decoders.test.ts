import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MalformedDataError } from '../../src/errors/malformed-data-error.js';
import type { Decoded } from '../../src/model/decoded.js';
import { decodeJob, encodeJob, readJob } from '../../src/model/job-record.js';
import { readAssignmentGroup } from '../../src/model/assignment-group.js';
import { decodeControl, encodeControl, readControl } from '../../src/model/job-control.js';
import { decodeHistory, decodeProgress, encodeHistory, encodeProgress, readHistory, readProgress, RUN_OUTCOMES, type ProgressRecord, type RecentOutcome } from '../../src/model/progress-record.js';
import { encodeMarker, readMarker, type RunningMarker } from '../../src/model/running-marker.js';
import { encodeTrigger, readTrigger } from '../../src/model/trigger-request.js';
import { readStageRecord } from '../../src/model/stage-record.js';
import { MAX_RECORD_BYTES } from '../../src/model/json-codec.js';
import { decodeMemberInfo, encodeMemberInfo, readMemberInfo, type MemberInfo } from '../../src/membership/member-info.js';
import { validJob } from '../support/job-arbitrary.js';
import { testJob } from '../support/test-job.js';

const PATH = '/zkshard-test/jobs/j/x';
const readers: Record<string, (data: Buffer | undefined, path: string) => Decoded<unknown>> = {
  job: readJob, assignment: (data, path) => readAssignmentGroup(data, path, 0), control: readControl, progress: readProgress, history: readHistory,
  marker: readMarker, trigger: readTrigger, stages: readStageRecord, member: readMemberInfo,
};
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** Either a record or one MalformedDataError naming the path; never a throw. */
function expectWellBehaved(d: Decoded<unknown>): void {
  if (d.ok) return;
  expect(d.error).toBeInstanceOf(MalformedDataError);
  expect(d.error.code).toBe('ZK_DATA_MALFORMED');
  expect(d.error.path).toBe(PATH);
  expect(d.error.message).toContain(PATH);
  expect(d.error.reason.length).toBeGreaterThan(0);
}

const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const id = fc.stringMatching(/^[a-z0-9-]{1,40}$/);
const outcome = fc.constantFrom(...RUN_OUTCOMES);

describe('checked decoders: hostile bytes', () => {
  for (const [kind, read] of Object.entries(readers)) {
    it(`${kind}: any bytes and any JSON give a record or one MalformedDataError naming the path`, () => {
      fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.jsonValue().map(json)), (data) => {
        expectWellBehaved(read(data, PATH));
      }), { numRuns: 300 });
    });
  }

  it('a record larger than any zkshard writes is malformed without being parsed', () => {
    const huge = json({ items: null, pad: 'x'.repeat(MAX_RECORD_BYTES) });
    for (const read of Object.values(readers)) {
      const d = read(huge, PATH);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error.reason).toMatch(/bytes, more than the \d+/);
    }
  });
});

describe('readJob: a stored definition holds no more than a valid file can', () => {
  it('round-trips every valid definition', () => {
    fc.assert(fc.property(validJob(), (def) => {
      expect(readJob(encodeJob(def), PATH, def.name)).toEqual({ ok: true, value: def });
    }), { numRuns: 150 });
  });

  it.each([
    ['shards: 1000000000', { shards: 1_000_000_000 }, /shards must be an integer from 1 to 10000/],
    ['a 5 MB item parameter', { itemParameters: { 0: 'p'.repeat(5_000_000) } }, /bytes, more than the 524288/],
    ['a 20 kB job parameter', { jobParameter: 'p'.repeat(20_000) }, /jobParameter must be at most 10000 characters/],
    ['an item parameter beyond shards', { shards: 2, itemParameters: { 7: 'x' } }, /itemParameters\.7 item 7 does not exist/],
    ['a cron that does not parse', { cron: 'every now and then' }, /^cron /],
    ['a command that is an object', { handler: undefined, command: { rm: '-rf' } }, /command must be a non-empty string/],
    ['an unknown key', { eval: 'process.exit()' }, /unknown key "eval"/],
  ])('%s is malformed, naming the field', (_what, change, reason) => {
    const data = json({ ...testJob('j'), ...change });
    const d = readJob(data, PATH);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.reason).toMatch(reason);
    expect(decodeJob(data)).toBeUndefined(); // the legacy decoder: no definition
  });

  it('a definition stored under another job\'s node is malformed', () => {
    const d = readJob(encodeJob(testJob('other')), PATH, 'j');
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.reason).toMatch(/name must be the job's node name "j"/);
  });

  it('the same buffer read again gives the same result, never an object another caller changed', () => {
    const def = testJob('j', { itemParameters: { 0: 'a' }, handler: undefined, command: ['x', 'y'] });
    const data = encodeJob(def);
    const first = readJob(data, PATH, 'j');
    if (!first.ok || !first.value) throw new Error('should decode');
    first.value.shards = 99;
    first.value.itemParameters['1'] = 'b';
    first.value.retry.attempts = 7;
    (first.value.command as string[]).push('z');
    expect(readJob(data, PATH, 'j')).toEqual({ ok: true, value: def });
    expect(readJob(data, PATH, 'other').ok).toBe(false); // cached per name
  });

  it('no data is no definition, not a malformed one', () => {
    expect(readJob(undefined, PATH)).toEqual({ ok: true, value: undefined });
    expect(readJob(Buffer.alloc(0), PATH)).toEqual({ ok: true, value: undefined });
  });
});

describe('readControl', () => {
  it('no node is the empty control; a partial record fills in the rest', () => {
    expect(readControl(undefined, PATH)).toEqual({ ok: true, value: { disabled: false, disabledItems: [], pins: {} } });
    expect(readControl(json({ disabled: true }), PATH)).toEqual({ ok: true, value: { disabled: true, disabledItems: [], pins: {} } });
  });
  it('round-trips', () => {
    fc.assert(fc.property(fc.boolean(), fc.uniqueArray(fc.integer({ min: 0, max: 9999 }), { maxLength: 50 }), fc.dictionary(fc.integer({ min: 0, max: 9999 }).map(String), id, { maxKeys: 10 }), (disabled, disabledItems, pins) => {
      const c = { disabled, disabledItems, pins };
      expect(readControl(encodeControl(c), PATH)).toEqual({ ok: true, value: c });
    }));
  });
  it('a control whose disabled flag is not a boolean is malformed, not "enabled"', () => {
    const d = readControl(json({ disabled: 'yes', disabledItems: [] }), PATH);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.reason).toMatch(/disabled must be true or false/);
    expect(decodeControl(json({ pins: { 0: { nested: true } } }))).toEqual({ disabled: false, disabledItems: [], pins: {} });
  });
});

describe('readProgress / readHistory / readMarker', () => {
  const inFlight = fc.record({ fireTime: iso, attempt: fc.integer({ min: 1, max: 100 }), member: id, worker: id, startedAt: iso });
  const progress: fc.Arbitrary<ProgressRecord> = fc.record({
    lastScheduled: iso, lastCompleted: iso, inFlight: fc.option(inFlight, { nil: null }), outcome, attempt: fc.integer({ min: 0, max: 100 }),
    durationMs: fc.integer({ min: 0, max: 1e9 }), worker: id,
  }, { requiredKeys: [] });
  const recent: fc.Arbitrary<RecentOutcome> = fc.record({
    fireTime: iso, outcome, attempt: fc.integer({ min: 0, max: 100 }), worker: id, at: iso,
    durationMs: fc.integer({ min: 0, max: 1e9 }), error: fc.string({ maxLength: 500 }), startedAt: iso,
  }, { requiredKeys: ['fireTime', 'outcome', 'attempt', 'worker', 'at'] });

  it('round-trip every valid record', () => {
    fc.assert(fc.property(progress, (p) => {
      expect(readProgress(encodeProgress(p), PATH)).toEqual({ ok: true, value: p });
    }));
    fc.assert(fc.property(fc.array(recent, { maxLength: 10 }), (h) => {
      expect(readHistory(encodeHistory(h), PATH)).toEqual({ ok: true, value: h });
    }));
    fc.assert(fc.property(inFlight, (m: RunningMarker) => {
      expect(readMarker(encodeMarker(m), PATH)).toEqual({ ok: true, value: m });
    }));
  });

  it('a new item node (no data) has empty progress; unreadable progress is malformed, not empty', () => {
    expect(readProgress(undefined, PATH)).toEqual({ ok: true, value: {} });
    expect(readProgress(Buffer.alloc(0), PATH)).toEqual({ ok: true, value: {} });
    for (const bad of ['{not json', '[]', '{"v":2,"s":"yesterday"}', '{"v":2,"f":{"t":1,"a":1,"m":"m","w":"w"}}', '{"v":3}', '{"lastScheduled":"soon"}']) {
      const d = readProgress(Buffer.from(bad), PATH);
      expect(d.ok, bad).toBe(false);
    }
    expect(decodeProgress(Buffer.from('{"v":2,"s":"yesterday"}'))).toEqual({});
  });

  it('a history of more than 10 entries or with a 1 MB error text is malformed', () => {
    const entry = [0, 'success', 1, 'w', 0, null, null];
    expect(readHistory(json({ v: 2, r: Array.from({ length: 11 }, () => entry) }), PATH).ok).toBe(false);
    expect(readHistory(json({ v: 2, r: [[0, 'failed', 1, 'w', 0, null, null, 'e'.repeat(100_000)]] }), PATH).ok).toBe(false);
    expect(decodeHistory(json({ v: 2, r: 'many' }))).toEqual([]);
  });
});

describe('readTrigger', () => {
  it('round-trips; unreadable data triggers nothing instead of every item', () => {
    expect(readTrigger(encodeTrigger({ items: [1, 3], requestedAt: '2026-12-01T00:00:00.000Z' }), PATH)).toEqual({ ok: true, value: { items: [1, 3], requestedAt: '2026-12-01T00:00:00.000Z' } });
    expect(readTrigger(encodeTrigger({ items: null }), PATH)).toEqual({ ok: true, value: { items: null } });
    for (const bad of ['garbage', '{}', '{"items":"all"}', '{"items":[-1]}', '{"items":[1,1]}', '{"items":[100000]}', '']) {
      const d = readTrigger(Buffer.from(bad), PATH);
      expect(d.ok, bad).toBe(false);
    }
  });
});

describe('readStageRecord', () => {
  it('round-trips; a stage record that cannot be read is malformed, not "no stage done"', () => {
    const r = { fireId: 'j@2026-12-01T00:00:00.000Z#1', done: { write: { at: '2026-12-01T00:00:01.000Z', result: { rows: 3 } } } };
    expect(readStageRecord(json(r), PATH)).toEqual({ ok: true, value: r });
    expect(readStageRecord(undefined, PATH)).toEqual({ ok: true, value: undefined });
    expect(readStageRecord(json({ fireId: r.fireId, done: { 'bad name!': { at: r.done.write.at } } }), PATH).ok).toBe(false);
    expect(readStageRecord(json({ fireId: r.fireId, done: [] }), PATH).ok).toBe(false);
  });
});

describe('readMemberInfo', () => {
  it('a label named __proto__ is an own label, never the prototype (hostile member data)', () => {
    const raw = Buffer.from('{"id":"w","host":"h","pid":1,"jobs":[],"labels":{"__proto__":"x"},"capacity":1,"state":"active","startedAt":"2026-01-01T00:00:00.000Z","version":"1"}');
    const read = readMemberInfo(raw, PATH);
    expect(read.ok).toBe(true);
    const labels = read.ok ? read.value.labels : {};
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('x');
  });
  const jobName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
  const info: fc.Arbitrary<MemberInfo> = fc.record({
    id, host: fc.string({ maxLength: 50 }), pid: fc.nat(), jobs: fc.array(jobName, { maxLength: 20 }), labels: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })),
    capacity: fc.double({ min: 0.01, max: 100, noNaN: true }), state: fc.constantFrom('active' as const, 'draining' as const), startedAt: iso, version: fc.constant('1.0.0'),
    clock: fc.record({ skewMs: fc.integer({ min: -1e6, max: 1e6 }), maxSkewMs: fc.nat(), ok: fc.boolean(), checkedAt: iso }),
    codeMismatch: fc.array(jobName, { maxLength: 5 }),
    protocol: fc.integer({ min: 1, max: 1_000_000 }),
  }, { requiredKeys: ['id', 'host', 'pid', 'jobs', 'labels', 'capacity', 'state', 'startedAt', 'version'] });
  it('round-trips; a member with a million jobs or a job name that is not one is malformed', () => {
    fc.assert(fc.property(info, (m) => {
      expect(readMemberInfo(encodeMemberInfo(m), PATH)).toEqual({ ok: true, value: m });
    }));
    const base = { id: 'w', host: 'h', pid: 1, jobs: ['a'], labels: {}, capacity: 1, state: 'active', startedAt: '', version: '' };
    expect(readMemberInfo(json({ ...base, jobs: Array.from({ length: 100_001 }, () => 'a') }), PATH).ok).toBe(false);
    expect(readMemberInfo(json({ ...base, jobs: ['../../etc'] }), PATH).ok).toBe(false);
    expect(readMemberInfo(json({ ...base, capacity: -1 }), PATH).ok).toBe(false);
    expect(readMemberInfo(Buffer.alloc(0), PATH).ok).toBe(false);
    expect(decodeMemberInfo(json({ ...base, state: 'leader' }))).toBeUndefined();
    for (const protocol of [0, -1, 1.5, '1', null]) {
      const read = readMemberInfo(json({ ...base, protocol }), PATH);
      expect(read.ok ? 'decoded' : read.error.message).toContain('protocol');
    }
  });
});
