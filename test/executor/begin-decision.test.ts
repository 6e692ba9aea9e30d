import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decideBegin, type BeginAsk } from '../../src/executor/begin-decision.js';
import type { InFlightRun, ProgressRecord } from '../../src/model/progress-record.js';

const self = { member: 'm-new-0000000002', worker: 'w-new' };
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const iso = (s: number) => at(s).toISOString();
const left = (s: number, attempt = 1, member = 'm-old-0000000001'): InFlightRun => ({ fireTime: iso(s), attempt, member, worker: 'w-old', startedAt: iso(s) });

describe('decideBegin', () => {
  it('F1: a scheduled fire never overwrites a fire left in flight by another member: take over first', () => {
    const record: ProgressRecord = { lastScheduled: iso(10), inFlight: left(10) };
    expect(decideBegin(record, { fireTime: at(20), attempt: 1 }, self, iso(20))).toEqual({ kind: 'takeover' });
    // also not a trigger, and not a fire left in flight by an earlier session of this very worker
    expect(decideBegin(record, { fireTime: at(20), attempt: 1, trigger: 7 }, self, iso(20))).toEqual({ kind: 'takeover' });
    expect(decideBegin({ lastScheduled: iso(10), inFlight: left(10, 1, self.member) }, { fireTime: at(20), attempt: 1 }, self, iso(20))).toEqual({ kind: 'takeover' });
  });

  // Found by the fleet simulation (seed 7118): a takeover recorded the fires its worker missed in a
  // separate write while a regular fire of the item, begun a moment before, took lastScheduled past
  // them; the worker died before that write. lastScheduled is now a frontier no begin passes
  // unless its claim (`after`) reaches it.
  it('lastScheduled is a frontier: a scheduled fire whose claim does not reach it answers takeover', () => {
    // the fire at 12 claims everything after 11; the frontier is 10: the fire of 11 is unaccounted
    expect(decideBegin({ lastScheduled: iso(10) }, { fireTime: at(12), attempt: 1, after: at(11) }, self, iso(12))).toEqual({ kind: 'takeover' });
    expect(decideBegin({ lastScheduled: iso(11) }, { fireTime: at(12), attempt: 1, after: at(11) }, self, iso(12))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(12) } });
    // carrying the note of 11 (missed), its claim reaches back to 10
    const withNote: BeginAsk = { fireTime: at(12), attempt: 1, after: at(10), missed: { count: 1, latest: at(11) } };
    expect(decideBegin({ lastScheduled: iso(10) }, withNote, self, iso(12))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(12) } });
    // an item that never had a scheduled fire: the frontier is its creation
    expect(decideBegin({}, { fireTime: at(12), attempt: 1, after: at(11) }, self, iso(12), iso(10.5))).toEqual({ kind: 'takeover' });
    expect(decideBegin({}, { fireTime: at(12), attempt: 1, after: at(11) }, self, iso(12), iso(11.5))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(12) } });
    // no claim: as before
    expect(decideBegin({ lastScheduled: iso(10) }, { fireTime: at(12), attempt: 1 }, self, iso(12))).toMatchObject({ kind: 'begin' });
  });

  // Found by the fleet simulation (seed 54496): a worker whose clock was a second behind
  // ZooKeeper's began the fires of 24 and 25 s of an item made at 25.256 s (its first begin wrote
  // the record with them); the item's next owner, which holds a claim at or before the item's
  // creation for one of an earlier item of that name, planned from the record's frontier and
  // recorded the fire of 25 as missed: one fire run and recorded missed. A scheduled fire at or
  // before the item's creation is not one of its fires: never begun.
  it('a scheduled fire at or before the item\'s creation is not the item\'s: duplicate (a trigger or a re-run still begins)', () => {
    expect(decideBegin({}, { fireTime: at(24), attempt: 1 }, self, iso(25.6), iso(25.256))).toEqual({ kind: 'duplicate' });
    expect(decideBegin({}, { fireTime: at(25), attempt: 1, after: at(24) }, self, iso(25.6), iso(25))).toEqual({ kind: 'duplicate' });
    expect(decideBegin({}, { fireTime: at(26), attempt: 1, after: at(25) }, self, iso(26), iso(25.256))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(26) } });
    expect(decideBegin({}, { fireTime: at(24), attempt: 1, trigger: 3 }, self, iso(25.6), iso(25.256))).toMatchObject({ kind: 'begin', record: { lastTrigger: 3 } });
    expect(decideBegin({ inFlight: left(24) }, { fireTime: at(24), attempt: 2, rerun: true }, self, iso(25.6), iso(25.256))).toMatchObject({ kind: 'begin' });
  });

  it('a re-run or a trigger carrying notes whose claim reaches the frontier moves it past them; a re-run alone never does', () => {
    const record: ProgressRecord = { lastScheduled: iso(10), inFlight: left(10) };
    const rerun: BeginAsk = { fireTime: at(10), attempt: 2, rerun: true, after: at(10), missed: { count: 3, latest: at(13), earliest: at(11) } };
    expect(decideBegin(record, rerun, self, iso(14))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(13) } });
    // a claim that does not reach it does not move it (and a re-run is never turned away for it)
    expect(decideBegin(record, { ...rerun, after: at(11) }, self, iso(14))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(10) } });
    // a re-run of a trigger (its fire time off the schedule) leaves the frontier where it was
    expect(decideBegin({ inFlight: left(3.5) }, { fireTime: at(3.5), attempt: 2, rerun: true }, self, iso(4))).toMatchObject({ kind: 'begin', record: { inFlight: { fireTime: iso(3.5) } } });
    expect((decideBegin({ inFlight: left(3.5) }, { fireTime: at(3.5), attempt: 2, rerun: true }, self, iso(4)) as { record: ProgressRecord }).record.lastScheduled).toBeUndefined();
  });

  // Fleet simulation, seeds 116, 159, 292: two takeovers planned from one frontier; the second's
  // begin recorded again the fires the first had recorded (or run) since.
  it('the notes a begin records leave out the fires at or before the frontier: they were accounted for already', () => {
    const next = (t: Date) => new Date(Math.floor(t.getTime() / 1000) * 1000 + 1000);
    const ask: BeginAsk = { fireTime: at(17), attempt: 1, after: at(10), missed: { count: 6, latest: at(16), earliest: at(11) }, skipped: { count: 1, latest: at(12) } };
    expect(decideBegin({ lastScheduled: iso(13) }, ask, self, iso(17), undefined, next)).toMatchObject({
      kind: 'begin',
      record: { lastScheduled: iso(17) },
      notes: { missed: { count: 3, latest: at(16), earliest: at(14) } },
    });
    expect((decideBegin({ lastScheduled: iso(13) }, ask, self, iso(17), undefined, next) as { notes: object }).notes).not.toHaveProperty('skipped');
    // All after the frontier: as asked; without the schedule a note that reaches back is kept whole
    expect(decideBegin({ lastScheduled: iso(10) }, ask, self, iso(17), undefined, next)).toMatchObject({ notes: { missed: ask.missed, skipped: ask.skipped } });
    expect(decideBegin({ lastScheduled: iso(13) }, ask, self, iso(17))).toMatchObject({ notes: { missed: ask.missed } });
    // An item that never had a scheduled fire: its creation is the frontier
    expect(decideBegin({}, ask, self, iso(17), iso(14.5), next)).toMatchObject({ notes: { missed: { count: 2, latest: at(16), earliest: at(15) } } });
  });

  it('a re-run continues exactly the fire left in flight, with the next attempt', () => {
    const record: ProgressRecord = { lastScheduled: iso(10), inFlight: left(10, 2) };
    const d = decideBegin(record, { fireTime: at(10), attempt: 3, rerun: true, failovers: { count: 2, workers: ['a', 'b'] } }, self, iso(12));
    expect(d).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(10), inFlight: { fireTime: iso(10), attempt: 3, member: self.member, failovers: 2, down: ['a', 'b'] } } });
  });

  it('F5: a re-run of a fire someone already re-ran, or that finished, never runs it again', () => {
    // another member re-ran it meanwhile (attempt 2 is in flight or was cut short): plan anew
    expect(decideBegin({ lastScheduled: iso(10), inFlight: left(10, 2, 'm-x-0000000003') }, { fireTime: at(10), attempt: 2, rerun: true }, self, iso(12))).toEqual({ kind: 'takeover' });
    // a later fire is in flight now: plan anew
    expect(decideBegin({ lastScheduled: iso(11), inFlight: left(11) }, { fireTime: at(10), attempt: 2, rerun: true }, self, iso(12))).toEqual({ kind: 'takeover' });
    // nothing in flight any more: it finished
    expect(decideBegin({ lastScheduled: iso(10), inFlight: null, lastCompleted: iso(10) }, { fireTime: at(10), attempt: 2, rerun: true }, self, iso(12))).toEqual({ kind: 'duplicate' });
  });

  it('F6: triggers are counted apart from the schedule', () => {
    const record: ProgressRecord = { lastScheduled: iso(30) };
    // a trigger whose (server) time is before the last scheduled fire still runs
    const t = decideBegin(record, { fireTime: at(25), attempt: 1, trigger: 4 }, self, iso(31));
    expect(t).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(30), lastTrigger: 4 } });
    // and does not make a later scheduled fire a duplicate, however far ahead its time
    const after = (t as { record: ProgressRecord }).record;
    const done = { ...after, inFlight: null };
    expect(decideBegin({ ...done, lastTrigger: 4 }, { fireTime: at(31), attempt: 1 }, self, iso(31))).toMatchObject({ kind: 'begin' });
    expect(decideBegin({ lastScheduled: iso(10), lastTrigger: 4 }, { fireTime: at(31), attempt: 1, trigger: 4 }, self, iso(31))).toEqual({ kind: 'duplicate' });
    expect(decideBegin({ lastScheduled: iso(10), lastTrigger: 4 }, { fireTime: at(5), attempt: 1, trigger: 5 }, self, iso(31))).toMatchObject({ kind: 'begin', record: { lastScheduled: iso(10), lastTrigger: 5 } });
  });

  // Property: across any sequence of begins and ends decided by this function, a fire (or a
  // trigger) starts at most once except as an explicit re-run of exactly that fire, and a fire
  // left in flight is never dropped: it stays in flight until a re-run of it begins (or it ends).
  it('never starts one fire twice and never drops a fire left in flight (any interleaving)', () => {
    type Step = { kind: 'fire'; s: number } | { kind: 'trigger'; n: number } | { kind: 'end' } | { kind: 'crash' } | { kind: 'rerun' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('fire' as const), s: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('trigger' as const), n: fc.integer({ min: 0, max: 10 }) }),
      fc.constant({ kind: 'end' as const }),
      fc.constant({ kind: 'crash' as const }),
      fc.constant({ kind: 'rerun' as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let record: ProgressRecord = {};
        let running: string | undefined; // fire (or trigger) key of the live run, if any
        const started = new Map<string, number>(); // key → starts that were not re-runs
        for (const st of steps) {
          if (st.kind === 'end') {
            if (running) record = { ...record, inFlight: null };
            running = undefined;
            continue;
          }
          if (st.kind === 'crash') {
            running = undefined; // the run dies; its inFlight stays
            continue;
          }
          if (running) continue; // the marker is held: begins are refused by ZooKeeper (busy)
          const ask: BeginAsk =
            st.kind === 'fire'
              ? { fireTime: at(st.s), attempt: 1 }
              : st.kind === 'trigger'
                ? { fireTime: at(0), attempt: 1, trigger: st.n }
                : record.inFlight
                  ? { fireTime: new Date(record.inFlight.fireTime), attempt: record.inFlight.attempt + 1, rerun: true }
                  : { fireTime: at(0), attempt: 2, rerun: true };
          const before = record.inFlight;
          const d = decideBegin(record, ask, self, iso(0));
          if (before) expect(d.kind === 'begin' ? ask.rerun && d.record.inFlight?.fireTime === before.fireTime : true).toBe(true);
          if (d.kind !== 'begin') {
            if (before) expect(record.inFlight).toBe(before);
            continue;
          }
          const key = ask.trigger !== undefined ? `t${ask.trigger}` : ask.fireTime.toISOString();
          if (!ask.rerun) {
            started.set(key, (started.get(key) ?? 0) + 1);
            expect(started.get(key), `${key} started twice`).toBe(1);
          }
          record = d.record;
          running = key;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
