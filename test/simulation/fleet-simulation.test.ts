import { describe, expect, it } from 'vitest';
import { runFleetSimulation, type FleetSimulationOptions } from '../../src/simulation/fleet-simulation.js';
import { formatFailure } from '../../src/simulation/fleet-report.js';
import { BUSY_GAP_MS, checkFleet, checkFleetFully, type FinalItem } from '../../src/simulation/fleet-checker.js';
import { emptyFleetLog, type RunRecord } from '../../src/simulation/fleet-events.js';
import { generateScenario, type FleetAction, type FleetScenario } from '../../src/simulation/fleet-scenario.js';

/** The sweep's scenarios: 10–20 s of faults and operator actions, then the fleet heals and settles. */
const SWEEP: FleetSimulationOptions = { scenario: { activeMs: [10_000, 20_000] }, trace: false };
const SEEDS = 1000;

/**
 * Seeds that still break an invariant because of a protocol bug found by the simulation and not
 * fixed yet (see docs/RELIABILITY.md "The deterministic fleet simulation"): each must fail with
 * exactly this invariant, so that the list is kept true (a fix makes its seeds pass: remove them then).
 */
const KNOWN: Record<number, string> = Object.fromEntries(([] as number[]).map((seed) => [seed, 'no-lost-fire']));

describe('fleet simulation (real WorkerSessions over the simulated ZooKeeper)', () => {
  it(`${SEEDS} seeds keep every invariant`, async () => {
    const failures: string[] = [];
    const known: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runFleetSimulation(seed, SWEEP);
      const invariants = [...new Set(result.violations.map((v) => v.invariant))].join(',');
      if (KNOWN[seed] !== undefined) {
        if (invariants === KNOWN[seed]) known.push(seed);
        else failures.push(`seed ${seed}: known to break ${KNOWN[seed]}, now ${invariants || 'nothing'}: update KNOWN`);
        continue;
      }
      // A failing seed is run again with its trace: the same run, to report.
      if (result.violations.length > 0) failures.push(formatFailure(await runFleetSimulation(seed, { ...SWEEP, trace: true })));
    }
    expect(failures.join('\n\n')).toBe('');
    expect(known.length).toBe(Object.keys(KNOWN).length);
  }, 240_000);

  it('a seed replays exactly: the same trace, byte for byte; another seed, another run', async () => {
    const options = { scenario: { activeMs: [8000, 8000] as [number, number] } };
    const a = await runFleetSimulation(7, options);
    const b = await runFleetSimulation(7, options);
    const c = await runFleetSimulation(8, options);
    expect(a.stats.runs).toBeGreaterThan(20);
    expect(a.trace.lines.length).toBeGreaterThan(300);
    expect(b.trace.toString()).toBe(a.trace.toString());
    expect(c.trace.toString()).not.toBe(a.trace.toString());
  }, 60_000);

  it("a seed replays the same on any machine: the trace does not depend on this process's pid", async () => {
    // (Found when a seed's trace changed as the machine's pids wrapped from five digits to four:
    // each worker published the real pid in its member node, whose size the trace shows.)
    const options = { scenario: { activeMs: [8000, 8000] as [number, number] } };
    const real = Object.getOwnPropertyDescriptor(process, 'pid')!;
    const withPid = async (pid: number) => {
      Object.defineProperty(process, 'pid', { ...real, value: pid });
      try {
        return (await runFleetSimulation(7, options)).trace.toString();
      } finally {
        Object.defineProperty(process, 'pid', real);
      }
    };
    expect(await withPid(7)).toBe(await withPid(4_194_303));
  }, 60_000);

  // Found by this simulation: with failover: false, an item whose owner died mid-run was never run
  // again (the takeover looped: its begins answered `takeover`). Fixed in planTakeover; the
  // focused test is in test/scheduler/plan-takeover.test.ts.
  it('seed 6 (failover: false, an owner lost mid-run): the new owner runs the item again', async () => {
    const result = await runFleetSimulation(6, { trace: false });
    expect(result.scenario.jobs.some((j) => !j.definition.failover)).toBe(true);
    expect(result.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);

  // Found by this simulation (2026-12-05, invariant (j)): a forced reshard made an item anew while
  // its old owner lived on and kept writing that ledger part, so the old owner's claim of the
  // earlier item stayed current, past the new record's frontier (a plan from it would start before
  // the item's birth). A claim from before the record was made is no frontier now, and removals
  // clear the live ledgers (focused tests: fire-scheduler, ledger-view, ledger-clearing). Seed 132,
  // in the sweep above, is the round that read across a move it had not seen yet.
  it('seed 8825 (a forced reshard and its undo, the old owner alive): its takeovers agree with the ledgers', async () => {
    const result = await runFleetSimulation(8825, { trace: false }); // the CLI's scenario (20-40 s), as the sweep that found it
    expect(result.scenario.actions.some((a) => a.kind === 'reshard' && a.force)).toBe(true);
    expect(result.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);

  // Found by this simulation (2026-12-05, on the marker-free protocol, invariant (j)): a worker
  // whose wall clock stepped back gave back the runs it had begun ahead — their release kept them in
  // flight in the records (interrupted, for the next owner) and took them out of its ledger — then
  // died; the next owner's takeover took the record's run, missing from the gone member's ledger,
  // for a contradiction. A run handed back is in the record only (the check, not the protocol, was
  // wrong; focused test: ledger-view).
  it('seed 8241 (runs begun ahead handed back, then their worker dies): its takeovers agree with the ledgers', async () => {
    const result = await runFleetSimulation(8241, { trace: false });
    expect(result.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);

  // Found by this simulation (2026-12-05, when the records stopped carrying the runs their
  // member's ledger holds, run protocol v2 step 4c), both lost fires: seed 12, a manual trigger of
  // an item being taken over began before the takeover had read the ledgers, on a record that no
  // longer said the gone owner's run in flight (triggers now wait for the takeover, as scheduled
  // fires do); seed 517, the takeover of a disabled item recorded its missed fires after the item
  // had moved on, from a record read afresh, and so superseded the gone owner's ledger entry
  // without carrying its run (a takeover's notes now carry the run it found in the ledgers).
  // Seed 4627, the same day: a worker frozen across two moves of an item (away and back to it) never
  // saw it go, so did not take it over, and began it while the member it had gone to still ran it;
  // the record used to stop that begin (it said the run), the ledger alone cannot. A skipped
  // assignment generation now takes the items kept over again (focused test: fire-scheduler).
  // Seeds 7, 40 and 292, the same day, when the claims became the frontier (step 4c, second
  // part): a takeover's frontier from the claims replaced the gone member's run it had just found
  // (7: every cut-short run lost); an old owner's hand-over of its claim by a record write of its
  // own superseded the new owner's entries (40); a worker the item had just left wrote notes from
  // a record read afresh and lowered the frontier (292: fires recorded twice).
  // And seeds 16501, 17543, 17947, 18495: the record's version had also kept a worker's own begin
  // apart from its takeover's notes, and a begin handed over before a skipped generation apart
  // from the item's new ownership (ownership epochs; a takeover waits for a fire on its way).
  // And seed 54496: a worker with a clock behind ZooKeeper's began fires from before its item's
  // creation, which the next owner's takeover (rightly) did not count as the item's claims.
  // And seed 15902 (found on the positional ledger parts, whose reads changed the interleavings):
  // a success's release, which writes no record, was made from the cached record before a
  // takeover's notes moved the frontier, and put that older record back in the cache when it
  // landed; the next begin recorded the same missed fires again.
  it('seeds 7, 12, 40, 292, 517, 4627, 15902, 16501, 17543, 17947, 18495, 54496 (records written only on exceptions: runs and claims from the ledgers)', async () => {
    for (const seed of [7, 12, 40, 292, 517, 4627, 15902, 16501, 17543, 17947, 18495, 54496]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed}: ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);
});

// Found by this simulation: a scheduled fire waiting behind a running run (overlap queue or
// replace) and displaced by a newer one was only noted for the item's next run, but the newer
// fire's begin took `lastScheduled` past it: if the process died before that next run, the
// displaced fire was lost without a record. The displacing fire now records it (Executor.dropQueued).
describe('fleet simulation regressions', () => {
  it('seed 40 (default scenario) and 83 (sweep): a displaced queued fire is recorded by the fire that displaced it', async () => {
    for (const [seed, options] of [[40, { trace: false }], [83, SWEEP]] as const) {
      const result = await runFleetSimulation(seed, options);
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);
});

// Found by this simulation: a worker given an item whose owner died mid-run, with a fire instant
// due at once: the regular fire answered `takeover` while the worker's own takeover of the item
// ran, and the takeover asked for again found the item running here and planned nothing, so the
// fire was neither run nor recorded. The repeated takeover now plans the fires since the last one
// taken on, behind our own run.
describe('fleet simulation regressions (takeover in progress)', () => {
  it('seeds 274, 392, 532 (sweep) and 86 (default scenario): a fire answered takeover during our own takeover is run or recorded', async () => {
    for (const [seed, options] of [[274, SWEEP], [392, SWEEP], [532, SWEEP], [86, { trace: false }]] as const) {
      const result = await runFleetSimulation(seed, options);
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);
});

// Found by this simulation: the leader's cache of /jobs dropped a job whose data read failed with
// a connection loss (the retry re-read the children list but not that child's data), so it kept the
// job's old definition: after a reshard the new items were never assigned, and never ran.
describe('fleet simulation regressions (children cache)', () => {
  it('seeds 1030 and 1246 (default scenario): items made by a reshard are assigned and run', async () => {
    for (const seed of [1030, 1246]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);
});

// Found by a sweep of 4,000 seeds of the default scenario (`npm run simulate -- --seeds 4000`), each
// a fire neither run nor recorded: 809, a note kept for the item's next run lost when the item moved
// away; 132, 432, 599, a forward step of a worker's wall clock (future instants taken as due, and
// a note merged with theirs); 3123, a missed fire queued behind a later run and dropped with the
// session; 3378, 3419, a recorded note the checker only read from the bounded final history, and
// workers paused by a clock set right again only noticed 30 s later; 3438, two notes with a gap
// merged into one that reads as other fires. And from a sweep of 20,000: 5304, a trigger's fire time
// taken for the item's last scheduled fire; 7118, the frontier (lastScheduled) passed fires whose
// note was still on its way when its worker died; 15430, a release that had to read its item again
// (a note write had dropped the cache entry) failed on a connection drop and left the marker held
// by a live session: the item stopped; 25571, a fire that replaced a queued one took over its claim
// past two catch-up fires still queued, and the frontier skipped them; 30228, a disabled item's
// takeover did nothing, so a fire due before the disable stayed unrecorded. Focused tests are in test/scheduler,
// test/executor/begin-decision.test.ts and test/worker.
describe('fleet simulation regressions (fires kept to record, clock steps)', () => {
  it('seeds 132, 432, 599, 809, 3123, 3378, 3419, 3438, 5304, 7118, 15430, 25571, 30228 (default scenario) keep every invariant', async () => {
    for (const seed of [132, 432, 599, 809, 3123, 3378, 3419, 3438, 5304, 7118, 15430, 25571, 30228]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);
});

// Found when the executor began to go on from an instant's entries AFTER_ENTRIES_MS later: seed 95,
// a worker frozen right after entering its handlers told them started on waking, after another
// worker had begun later fires of those items with larger tokens; the fencing check read the
// order it was told in, not the order the handlers were entered in.
describe('fleet simulation regressions (runs told after their entry)', () => {
  it('seed 95 (default scenario): fencing tokens grow in the order handlers were entered', async () => {
    const result = await runFleetSimulation(95, { trace: false });
    expect(result.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);
});

// Found by this simulation (F7's residual): a forced reshard removes an item while its run goes on,
// the reshard is undone, another member begins the new item node, whose data version reaches the
// one the old run's release expects; the release's multi (version checks only) deleted the other
// member's marker (9386) and a third run started beside it (18908). Fixed by the fence: the forced
// operation bumps the marker owner's member node, which every release checks.
describe('fleet simulation regressions (forced reshards)', () => {
  it('seeds 9386 and 18908 (default scenario): a release after a forced reshard and its undo leaves the new run alone', async () => {
    for (const seed of [9386, 18908]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);

  // With batches begun 100 ms ahead of their instant (MIN_PREPARE_LEAD_MS then): a forced reshard
  // deleted the marker of a run begun ahead (taken at 3,900 ms, deleted at 3,950 ms); its handler
  // was still entered at 4,000 ms, and after the reshard back the item's next owner ran beside it.
  // Fixed by the executor reading the marker again before the handler when its fence moved.
  // Found when the checker learnt (g) (2026-12-04): 103 of seeds 1–400 of the sweep began an item
  // after the leader had moved it away (markers kept the runs apart, but run protocol v2 has no
  // markers). The leader now fences the members it moves items from, in the same transaction.
  it('seeds 1, 7, 10 (sweep): no item is begun by a member after the leader moved it away', async () => {
    for (const seed of [1, 7, 10]) {
      const result = await runFleetSimulation(seed, SWEEP);
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);

  it('seed 45331 (default scenario): a run whose marker a forced reshard took goes on, as --force says; not an overlap', async () => {
    const result = await runFleetSimulation(45331, { trace: false });
    expect(result.violations.map((v) => `seed 45331 ${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);

  // Invariant (h), the member's ledger says what its markers say (run protocol v2, step 2): a run
  // whose marker a forced reshard took must leave its member's ledger although it is never released.
  it('seeds 506, 2647 (default scenario): a run whose marker a forced reshard took leaves its member\'s ledger', async () => {
    // 506: begun ahead, its marker taken before its instant (never entered); 2647: its release's
    // outcome unknown (a partition), the marker found gone afterwards.
    for (const seed of [506, 2647]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 60_000);

  it('seed 3946 (default scenario): a run begun ahead whose marker a forced reshard deleted before its instant is never entered', async () => {
    const result = await runFleetSimulation(3946, { trace: false });
    expect(result.violations.map((v) => `seed 3946 ${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);
});

/**
 * A directed scenario: one job of one item (`j0#0`, overlap `skip`, failover on, runs of 4 s) on two
 * workers with a 3-second session timeout, the drawn scenario's other settings kept.
 */
function oneItemScenario(
  drawn: FleetScenario,
  o: { periodS: number; misfire: 'fire-once' | 'catch-up'; maxCatchUp?: number; attempts: number; failRate: number; actions: FleetAction[]; activeMs: number; tailMs: number },
): FleetScenario {
  const definition = {
    ...drawn.jobs[0]!.definition,
    name: 'j0',
    cron: `*/${o.periodS} * * * * *`,
    shards: 1,
    overlap: 'skip' as const,
    misfire: o.misfire,
    ...(o.maxCatchUp !== undefined && { maxCatchUp: o.maxCatchUp }),
    failover: true,
    timeoutMs: 0,
    retry: { attempts: o.attempts, backoffMs: 200, maxBackoffMs: 1000 },
    maxFailovers: 3,
  };
  return { ...drawn, workers: 2, sessionTimeoutMs: 3000, jobs: [{ definition, periodS: o.periodS, minRunMs: 4000, maxRunMs: 4000, failRate: o.failRate }], actions: o.actions, activeMs: o.activeMs, tailMs: o.tailMs };
}

// F1a, the disabled-item loss the review reproduced on a live fleet, as a directed scenario: the
// item's run goes on when an operator disables it, its owner is killed, the survivor takes the item
// while it is disabled, the operator enables it. Three rules each prevent the loss: a begin never
// overwrites a fire left in flight (begin-decision), an item enabled again is taken over
// (FireScheduler.setJob), and no begin passes the frontier without accounting for what is behind
// it. With all three reverted this test fails: the fire of 10 s is "cut short by the loss of its
// owner and never run again" (checked on 2026-12-03 in a scratch worktree); with the frontier alone
// back, it passes.
describe('fleet simulation: directed scenarios', () => {
  it('F1a: disabled while it runs, its owner killed, enabled again on the survivor: the interrupted fire runs again', async () => {
    const script = (drawn: FleetScenario): FleetScenario =>
      oneItemScenario(drawn, {
        periodS: 5,
        misfire: 'fire-once',
        attempts: 1,
        failRate: 0,
        actions: [
          { atMs: 3000, kind: 'move', job: 'j0', item: 0, worker: 0 },
          { atMs: 10_500, kind: 'disable', job: 'j0', item: 0 }, // the fire of 10 s runs until 14 s
          { atMs: 11_000, kind: 'crash', worker: 0, restartAfterMs: 40_000 },
          { atMs: 21_000, kind: 'enable', job: 'j0', item: 0 },
        ],
        activeMs: 30_000,
        tailMs: 20_000,
      });
    const result = await runFleetSimulation(1, { trace: false, script });
    expect(result.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
    expect(result.stats.runs).toBeGreaterThan(5);
  }, 60_000);
});

/** The checker on hand-made logs: each invariant is seen when broken. */
describe('fleet checker', () => {
  const scenario = { ...generateScenario(1), jobs: [{ ...generateScenario(1).jobs[0]!, periodS: 1, maxRunMs: 500 }] };
  const job = scenario.jobs[0]!.definition.name;
  const startWallMs = 1_767_225_600_000;
  const run = (over: Partial<RunRecord>): RunRecord => ({ process: 'w0.1', session: 1n, job, item: 0, fireMs: startWallMs + 1000, attempt: 1, token: 10n, startMs: 1000, endMs: 1500, sessionLive: true, held: true, ...over });
  const item: FinalItem = { job, item: 0, bornWallMs: startWallMs, progress: {}, history: [] };

  it('(a) overlapping runs on live sessions; excused once the first session ended and its run stopped in time', () => {
    const log = emptyFleetLog();
    log.runs.push(run({}), run({ process: 'w1.1', session: 2n, startMs: 1200, endMs: 1700, token: 11n }));
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 }).map((v) => v.invariant)).toEqual(['no-overlap']);
    log.sessionEnds.set(1n, { atMs: 1100, expired: true });
    log.runs[0]!.endMs = 1150;
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 })).toEqual([]);
    log.runs[0]!.endMs = 1600; // ran on past its session's end without being frozen
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 }).map((v) => v.invariant)).toEqual(['no-overlap']);
  });

  // Seed 45331 (sweep 40,001–60,000, 2026-12-04): an operator's forced reshard began reading before
  // a run began and deleted that run's marker; timed by the request's start, the overlap with the
  // item's next run (after the reshard was undone) was not excused. Told by zxid now.
  it('(a) excused when an operator\'s forced operation deleted the earlier run\'s marker after its begin (by zxid), not before', () => {
    const log = emptyFleetLog();
    log.runs.push(run({}), run({ process: 'w1.1', session: 2n, startMs: 1200, endMs: 1700, token: 12n }));
    log.forcedDeletes.push({ job, item: 0, zxid: 9n, atMs: 1100 }); // before the run's begin (token 10): not its marker
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 }).map((v) => v.invariant)).toEqual(['no-overlap']);
    log.forcedDeletes.push({ job, item: 0, zxid: 11n, atMs: 1100 }); // its marker, deleted before the next run started
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 })).toEqual([]);
    log.forcedDeletes[1]!.atMs = 1300; // deleted only after the next run started: not excused
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 }).map((v) => v.invariant)).toEqual(['no-overlap']);
  });

  it('(b) a fire that neither ran nor was recorded, unless the item was disabled', () => {
    const log = emptyFleetLog();
    const endMs = 60_000;
    for (let t = 0; t < endMs; t += 250) log.samples.push({ atMs: t, job, shards: 1, disabled: new Set(), ownedLive: [true] });
    const started = (s: number) => ({ atMs: s * 1000, process: 'w0.1', job, item: 0, fireMs: startWallMs + s * 1000, reason: 'schedule', token: BigInt(s) });
    for (let s = 1; s < 60; s++) if (s !== 7) log.started.push(started(s));
    const lost = checkFleet({ scenario, log, final: [item], startWallMs, endMs });
    expect(lost.map((v) => `${v.invariant} ${v.atMs}`)).toEqual(['no-lost-fire 7000']);
    log.started.find((s) => s.fireMs === startWallMs + 8000)!.missed = { count: 1, latestMs: startWallMs + 7000 };
    expect(checkFleet({ scenario, log, final: [item], startWallMs, endMs })).toEqual([]);
    delete log.started.find((s) => s.fireMs === startWallMs + 8000)!.missed;
    for (const s of log.samples) if (s.atMs >= 6500 && s.atMs <= 7500) s.disabled = new Set([0]);
    expect(checkFleet({ scenario, log, final: [item], startWallMs, endMs })).toEqual([]);
  });

  // Seeds 49949, 60094, 66626 (sweep of 40,001–70,000, 2026-12-04): fires skipped or queued behind
  // a re-run, catch-ups and a trigger retrying for 20 s and more were recorded by the item's next
  // begin, after the end; (b) took them for lost.
  it('(b) a fire after the item\'s frontier behind runs that go on past the cutoff is pending, not lost', () => {
    const log = emptyFleetLog();
    const endMs = 60_000;
    const settleMs = scenario.sessionTimeoutMs + 2000 + 500 + 3000;
    const lastChecked = Math.floor((endMs - settleMs) / 1000);
    for (let t = 0; t < endMs; t += 250) log.samples.push({ atMs: t, job, shards: 1, disabled: new Set(), ownedLive: [true] });
    for (let s = 1; s <= 30; s++) log.started.push({ atMs: s * 1000, process: 'w0.1', job, item: 0, fireMs: startWallMs + s * 1000, reason: 'schedule', token: BigInt(s) });
    const at30: FinalItem = { ...item, progress: { lastScheduled: new Date(startWallMs + 30_000).toISOString() } };
    const check = (final: FinalItem = at30) => {
      const input = { scenario, log, final: [final], startWallMs, endMs };
      const { violations, pending } = checkFleetFully(input);
      return { lost: violations.map((v) => v.atMs / 1000), pending: pending.map((p) => (p.fireMs - startWallMs) / 1000) };
    };
    const after30 = Array.from({ length: lastChecked - 30 }, (_, k) => 31 + k);
    // The run of 30 s goes on to the end (retrying): everything after it waits for the item's next begin.
    log.runs.push(run({ fireMs: startWallMs + 30_000, startMs: 30_000, endMs: undefined, token: 30n }));
    expect(check()).toEqual({ lost: [], pending: after30 });
    // ...unless the frontier passed them: then they were to be recorded already.
    expect(check({ ...at30, progress: { lastScheduled: new Date(startWallMs + 33_000).toISOString() } }).lost).toEqual([31, 32, 33]);
    // ...or a later scheduled fire began (its begin was the one to record them).
    log.started.push({ atMs: 34_000, process: 'w0.1', job, item: 0, fireMs: startWallMs + 34_000, reason: 'queued', token: 34n });
    expect(check()).toEqual({ lost: [31, 32, 33], pending: after30.filter((s) => s > 34) });
    log.started.pop();
    // The item idle from 40 s: what came before is lost; what came after is taken on by a run begun
    // within the settle time (a takeover after its owner's death) that goes on past the cutoff.
    log.runs[0]!.endMs = 40_000;
    log.runs.push(run({ fireMs: startWallMs + 41_000, startMs: 43_000, endMs: undefined, token: 41n }));
    expect(check()).toEqual({ lost: after30.filter((s) => s < 40), pending: after30.filter((s) => s >= 40) });
    // Runs closer than BUSY_GAP_MS (a retry's backoff, a release and the next begin) are one stretch.
    log.runs[1]!.startMs = 40_000 + BUSY_GAP_MS;
    expect(check()).toEqual({ lost: [], pending: after30 });
  });

  it('(b) a fire cut short by the loss of its owner must be run again', () => {
    const failover = { ...scenario, jobs: [{ ...scenario.jobs[0]!, definition: { ...scenario.jobs[0]!.definition, failover: true } }] };
    const log = emptyFleetLog();
    log.runs.push(run({ interrupted: true, aborted: true }));
    const check = () => checkFleet({ scenario: failover, log, final: [item], startWallMs, endMs: 60_000 }).filter((v) => /cut short/.test(v.message));
    expect(check().map((v) => v.invariant)).toEqual(['no-lost-fire']);
    log.runs.push(run({ process: 'w1.1', session: 2n, startMs: 9000, endMs: 9400, attempt: 2, token: 30n }));
    expect(check()).toEqual([]);
  });

  it('(c) a run entered on an ended session or without its marker; (d) a token not above the one before', () => {
    const log = emptyFleetLog();
    log.runs.push(run({ sessionLive: false }), run({ startMs: 3000, endMs: 3100, held: false }));
    log.started.push({ atMs: 1000, process: 'w0.1', job, item: 0, fireMs: startWallMs + 1000, reason: 'schedule', token: 20n });
    log.started.push({ atMs: 2000, process: 'w1.1', job, item: 0, fireMs: startWallMs + 2000, reason: 'schedule', token: 20n });
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 }).map((v) => v.invariant)).toEqual(['no-start-after-lease-loss', 'fencing-grows', 'no-start-after-lease-loss']);
  });

  it('(i) a fire recorded twice: by two notes, or by a note and a run; runs of one fire and triggers are not counted against each other', () => {
    const log = emptyFleetLog();
    const T = (s: number) => new Date(startWallMs + s * 1000);
    const rec = (over: Partial<(typeof log.recorded)[number]>) => ({ process: 'w0.1', atMs: 2000, job, item: 0, fireTime: T(1), fireId: 'x', attempt: 1, worker: 'w0', reason: 'schedule' as const, endedAt: T(2), outcome: 'success' as const, ...over });
    log.recorded.push(rec({ fireTime: T(1), outcome: 'interrupted' }), rec({ fireTime: T(1), attempt: 2, reason: 'failover' }), rec({ fireTime: T(1), reason: 'trigger' }));
    log.recorded.push(rec({ fireTime: T(4), outcome: 'missed', attempt: 0, fires: 2, endedAt: T(5) }), rec({ fireTime: T(5) }));
    const check = () => checkFleet({ scenario, log, final: [], startWallMs, endMs: 10_000 }).filter((v) => v.invariant === 'fire-recorded-once');
    expect(check()).toEqual([]);
    log.recorded.push(rec({ fireTime: T(5), outcome: 'missed', attempt: 0, fires: 2, endedAt: T(6), process: 'w1.1' })); // 4 and 5 again
    expect(check().map((v) => v.message.slice(0, v.message.indexOf(' recorded twice')))).toEqual([`${job}#0: fire ${T(5).toISOString()}`, `${job}#0: fire ${T(4).toISOString()}`]);
    // An item removed and made again is a new item: a note of the new one beside a run of the old one is not twice.
    log.recorded.pop();
    log.itemBirths.push({ job, item: 0, zxid: 5n, atMs: 0 }, { job, item: 0, zxid: 50n, atMs: 5500 });
    log.recorded.push(rec({ fireTime: T(7), fencingToken: '40', atMs: 7000 }), rec({ fireTime: T(7), outcome: 'missed', attempt: 0, atMs: 7500 }));
    expect(check()).toEqual([]);
    log.recorded.push(rec({ fireTime: T(7), outcome: 'missed', attempt: 0, atMs: 8000 }));
    expect(check().map((v) => v.message.slice(0, v.message.indexOf(' recorded twice')))).toEqual([`${job}#0: fire ${T(7).toISOString()}`]);
  });

  it('(e), (g), (h): what the server reported applied', () => {
    const log = emptyFleetLog();
    log.incidents.push({ kind: 'assignment-write', atMs: 10, path: '/fleet/jobs/j0/assignment', zxid: 5n, detail: 'leader m-1 has no member node' });
    log.incidents.push({ kind: 'begin-not-owner', atMs: 30, path: '/fleet/ledgers/m-2/4', zxid: 7n, detail: 'j0#0 begun by m-2, its owner is m-1' });
    log.incidents.push({ kind: 'ledger-mismatch', atMs: 40, path: '/fleet/ledgers/m-2/4', zxid: 8n, detail: 'written by session 3' });
    expect(checkFleet({ scenario, log, final: [], startWallMs, endMs: 5000 }).map((v) => v.invariant)).toEqual(['deposed-leader-write', 'begin-by-owner', 'ledger-holds-runs']);
  });
});

// Found by invariant (i), written after a CI run of test/history/fleet-history.test.ts stored 11
// rows for 7 seconds of one item (2026-12-04): two takeovers planned from one frontier, or a note
// kept while another begin claimed its fires, recorded fires already run or recorded (116: a note of
// 16 fires, then one of 17 over them; 159: a catch-up run of 29 s, then 29 s missed; 292: the same
// 3 fires by two workers; 368: a note cut to the fires after the frontier did not move it, and the
// next takeover recorded them again). Fixed in decideBegin and RunLedger.recordNotes (a write
// records only the fires after the frontier, and a claim that reaches it moves it); focused tests
// in test/executor/begin-decision.test.ts and run-ledger-takeover.test.ts.
describe('fleet simulation: every fire recorded once', () => {
  // 29873 and 34462: a forced reshard's undo made an item anew while a worker whose clock ran ahead
  // had run instants of the old node that came after the new one's creation; the new node's
  // takeover recorded them as missed. A new item, not a fire recorded twice (the checker's rule).
  // 22301 (2026-12-05 late night, run protocol 2): a new leader whose caches' first reads failed
  // (a connection loss) planned from empty caches, dropped every job and then moved items away
  // from members it did not see, fencing none: a member began an item no longer its (g).
  it('seeds 116, 159, 292, 368, 22301, 29873, 34462 (default scenario) keep every invariant', async () => {
    for (const seed of [116, 159, 292, 368, 22301, 29873, 34462]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }
  }, 120_000);
});

// Found by `npm run simulate` on seeds 79,001–84,000 (2026-12-06): the leader moved an item to a
// worker whose clock had just been stepped back 5.9 s. Firing was paused there, so the item's
// takeover did nothing and its loop went idle; a manual trigger of the job then found no takeover
// pending and began the item at once, while the member it had come from still ran its scheduled
// fire (the item's record does not say a scheduled run: that member's ledger alone holds it). A
// takeover put off by the clock now keeps the item pending until it is planned.
describe('fleet simulation: a takeover put off by the clock', () => {
  it('seed 79564 (default scenario): a trigger of an item that came while firing was paused waits for its takeover', async () => {
    const result = await runFleetSimulation(79564, { trace: false });
    expect(result.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);
});

// Found by `npm run simulate` on seeds 40,001–70,000 (2026-12-04), taken for lost fires: a re-run,
// catch-ups and a trigger of a failing catch-up job retried for 20 s and more; the fires skipped
// meanwhile, and a catch-up queued behind them, wait for the item's next begin, which came after
// the end. Not lost: the item's frontier is behind them, so that begin (or the next owner's
// takeover) records them. The checker's (b) now says so; with 60 s more, each is run or recorded.
describe('fleet simulation: fires pending behind a long queue of runs at the end', () => {
  // Which fires are pending at the end moves with every change of the interleaving (49949's went
  // with the records' writer field; the directed test below does not move): what must hold is
  // that none is lost, and with 60 s more every one of them is run or recorded.
  it('seeds 49949, 60094, 66626 (default scenario): no fire lost; with 60 s more, none pending', async () => {
    for (const seed of [49949, 60094, 66626]) {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
      const longer = await runFleetSimulation(seed, { trace: false, script: (drawn) => ({ ...drawn, tailMs: drawn.tailMs + 60_000 }) });
      expect(longer.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
      expect(longer.pending).toEqual([]);
    }
  }, 120_000);

  // The same shape, directed (it does not move with the interleaving): a catch-up job whose
  // handlers fail every attempt (3 attempts of 4 s); its owner killed mid-run, so the survivor
  // queues a re-run and three catch-ups, ~50 s of runs; the scheduled fires meanwhile are skipped
  // and wait for the item's next begin, which comes after the end of the short run (fires of
  // 12–36 s). Without the pending rule the short run fails (b) 13 times; 90 s on, all are recorded.
  it('directed: fires skipped behind a takeover\'s queue are pending at the end, and recorded when the run goes on', async () => {
    const script =
      (tailMs: number) =>
      (drawn: FleetScenario): FleetScenario =>
        oneItemScenario(drawn, {
          periodS: 2,
          misfire: 'catch-up',
          maxCatchUp: 3,
          attempts: 3,
          failRate: 1,
          actions: [
            { atMs: 1000, kind: 'move', job: 'j0', item: 0, worker: 0 },
            { atMs: 9000, kind: 'crash', worker: 0, restartAfterMs: 500_000 },
          ],
          activeMs: 20_000,
          tailMs,
        });
    const short = await runFleetSimulation(1, { trace: false, script: script(30_000) });
    expect(short.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
    const pending = short.pending.map((p) => p.fireMs);
    expect(pending.length).toBeGreaterThan(3);
    const longer = await runFleetSimulation(1, { trace: false, script: script(90_000) });
    expect(longer.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
    expect(longer.pending.map((p) => p.fireMs).filter((t) => pending.includes(t))).toEqual([]);
  }, 60_000);
});

// Found by `npm run simulate` on seeds 1–50,000 (2026-12-03): a member became leader while its
// connection was failing; its coordinator's first request met the connection loss, the start was
// given up and never tried again, so the fleet had a leader that coordinated nothing — the items of
// the member cut off (43353: a partition of w1.1 at 13.4 s; 49030: an owner lost mid-run at 9 s)
// were given to nobody, their fires neither run nor recorded. Fixed in WorkerSession (the start is
// retried while the member leads); focused test in test/worker/worker-session.test.ts.
describe('fleet simulation: a leader whose coordinator failed to start', () => {
  for (const seed of [43353, 49030]) {
    it(`seed ${seed} (default scenario): every fire of a cut-off worker's items is run or recorded`, async () => {
      const result = await runFleetSimulation(seed, { trace: false });
      expect(result.violations.map((v) => `seed ${seed} ${v.invariant}: ${v.message}`)).toEqual([]);
    }, 60_000);
  }
});

// Found by `npm run simulate` on seeds 1–80,000 (2026-12-03): a release batch carried two fence
// checks (runs begun before and after the member node's own update) and was refused; the re-read
// of the member node met a connection drop, and the whole batch was given up though the session
// lived on. Its markers stayed; the item's takeover then took a begin of a later fire on its way
// for the run holding the marker, so nothing removed it, and once the item moved the new owner
// waited for its release for good: j0#3's fires from 10 s on were neither run nor recorded. Fixed
// in RunReleaser (reads retried once reconnected) and FireScheduler (only a run of the marker's
// own fire holds it; an orphaned marker is removed fenced by the item's record). Focused tests in
// test/executor/run-ledger.test.ts and test/scheduler/fire-scheduler.test.ts.
describe('fleet simulation: a release given up on a connection drop', () => {
  it('seed 36648 (default scenario): every fire of the item whose release met the drop is run or recorded', async () => {
    const result = await runFleetSimulation(36648, { trace: false });
    expect(result.violations.map((v) => `seed 36648 ${v.invariant}: ${v.message}`)).toEqual([]);
  }, 60_000);
});
