import pino, { type Logger } from 'pino';
import { SimClock } from './sim-clock.js';
import { SimTrace } from './sim-trace.js';
import { SeededRandom } from './seeded-random.js';
import { SimZooKeeper, type SimChange } from './sim-zookeeper.js';
import { SimZkClient } from './sim-zk-client.js';
import { SimWorker } from './sim-worker.js';
import { generateScenario, type FleetAction, type FleetScenario, type ScenarioOptions } from './fleet-scenario.js';
import { emptyFleetLog, SAMPLE_MS, type FleetLog, type RunRecord } from './fleet-events.js';
import { checkFleetFully, type FinalItem, type PendingFire, type Violation } from './fleet-checker.js';
import { LedgerObserver, peekLedgerPart } from './ledger-observer.js';
import { itemNodeOf } from './item-node.js';
import { ZkPaths } from '../zk/zk-paths.js';
import { FleetOperator } from '../api/fleet-operator.js';
import { decodeJob } from '../model/job-record.js';
import { decodeControl } from '../model/job-control.js';
import { assignmentGroupOf, assignmentNodeOf, decodeAssignmentGroup, decodeJobAssignment } from '../model/assignment-group.js';
import { itemLedgerView, type LedgerPartRead } from '../model/ledger-view.js';
import { decodeHistory, decodeProgress } from '../model/progress-record.js';
import { LEDGER_PARTS, ledgerPartOf } from '../model/member-ledger.js';
import type { JobContext } from '../executor/job-context.js';
import type { FireRequest } from '../executor/executor.js';

const NAMESPACE = 'fleet';

export interface FleetSimulationOptions {
  /** Shapes the generated scenario (virtual duration, fault rate). */
  scenario?: ScenarioOptions;
  /** Also write the workers' log lines into the trace (slower; for replaying one seed). */
  logs?: boolean;
  /**
   * Record the trace (every request, watch event, fault and run). Off, a seed runs faster and
   * `trace` stays empty; a failing seed is run again with it to report (the run is the same).
   * @default true
   */
  trace?: boolean;
  /**
   * Rewrites the scenario drawn from the seed before it runs: a directed scenario (a given fleet,
   * job and sequence of faults and operator actions) for one interleaving a test names.
   */
  script?: (drawn: FleetScenario) => FleetScenario;
}

export interface FleetSimulationResult {
  seed: number;
  /** The range of virtual time with faults the scenario was drawn with, when not the default (for the replay command). */
  activeMs?: [number, number];
  scenario: FleetScenario;
  violations: Violation[];
  /** Fires neither run nor recorded yet at the end, and not lost: after their item's frontier, behind runs still going (fleet-checker `lostFires`). */
  pending: PendingFire[];
  trace: SimTrace;
  stats: { runs: number; fires: number; events: number; virtualMs: number; actions: Record<string, number> };
}

/** A trace that keeps nothing (a sweep of many seeds; failing ones are run again with a trace). */
class SilentTrace extends SimTrace {
  override record(): void {}
}

/**
 * Runs the real `WorkerSession`s (membership, election, leader, scheduler, executor, ledger) of a
 * fleet drawn from `seed` over the simulated ZooKeeper and clock, with the seed's faults and
 * operator actions, then checks the fleet's invariants (`fleet-checker.ts`). The same seed gives
 * the same run, byte for byte.
 */
export async function runFleetSimulation(seed: number, options: FleetSimulationOptions = {}): Promise<FleetSimulationResult> {
  const drawn = generateScenario(seed, options.scenario);
  const scenario = options.script ? options.script(drawn) : drawn;
  const random = new SeededRandom((seed ^ 0x5eed5eed) >>> 0);
  const clock = new SimClock({ random: random.fork() });
  const trace = options.trace === false ? new SilentTrace(() => clock.nowMs) : new SimTrace(() => clock.nowMs);
  const startWallMs = clock.wallNow();
  const log: FleetLog = emptyFleetLog();
  const paths = new ZkPaths(NAMESPACE);
  let operatorSession = -1n;
  const memberPathPrefix = `${paths.workers}/`;
  const server: SimZooKeeper = new SimZooKeeper({
    timers: clock.timers('server'),
    random: random.fork(),
    trace,
    tickMs: 500,
    minSessionTimeoutMs: 1000,
    observer: {
      committed: (changes, zxid, session) => onCommitted(changes, zxid, session),
      sessionEnded: (session, _zxid, expired) => log.sessionEnds.set(session, { atMs: clock.nowMs, expired }),
    },
  });
  /** History entries already seen, per history node, so that each note is logged once. */
  const notesSeen = new Set<string>();
  const itemNode = (path: string, leaf: 'item' | 'running' | 'history') => itemNodeOf(paths, path, leaf);
  /** (c) Whether the ledger of `session`'s member has the item in flight at `fireMs` (the run is held). */
  const holdsRun = (session: bigint, job: string, item: number, fireMs: number): boolean => {
    const member = (server.peek(paths.workers)?.children ?? []).find((m) => server.peek(paths.member(m))?.stat.ephemeralOwner === session);
    if (member === undefined) return false;
    const path = paths.ledgerPart(member, ledgerPartOf(job, LEDGER_PARTS));
    const part = peekLedgerPart(server, path);
    return part.ok && part.value.get(job)?.f.get(item)?.fireMs === fireMs;
  };
  const ledgers = new LedgerObserver(server, paths, {
    // (g) A run is begun (put in flight in its member's ledger) only by the item's owner as the
    // assignment stands at that zxid, on that member's session: the leader fences every member it
    // moves items from in the multi that moves them.
    begun: ({ member, job, item, session, zxid, path }) => {
      const record = decodeJobAssignment(server.peek(assignmentNodeOf(paths, job))?.data, job);
      const owner = record?.owners[item];
      const node = owner ? server.peek(`${memberPathPrefix}${owner}`) : undefined;
      if (owner !== member || !node || node.stat.ephemeralOwner !== session) {
        const detail = !record ? 'the job has no readable assignment' : !owner ? 'the item has no owner' : owner !== member ? `${job}#${item} begun by ${member}, its owner is ${owner}` : !node ? `its owner ${owner} has no member node` : `by session ${session.toString(16)}, its owner ${owner} is session ${node.stat.ephemeralOwner.toString(16)}`;
        log.incidents.push({ kind: 'begin-not-owner', atMs: clock.nowMs, path, zxid, detail });
      }
    },
    // A run an operator's forced remove or reshard took (it goes on until it ends: --force).
    taken: ({ job, item, zxid }) => log.forcedDeletes.push({ job, item, zxid, atMs: clock.nowMs }),
  });
  /** Per job, the owners as last assigned; per item (`job#item`), when its owner last changed (virtual ms). */
  const owners = new Map<string, ReadonlyArray<string | null>>();
  const ownerChangedAt = new Map<string, number>();
  const onCommitted = (changes: readonly SimChange[], zxid: bigint, session: bigint): void => {
    log.incidents.push(...ledgers.committed(changes, zxid, session, operatorSession, clock.nowMs));
    for (const c of changes) {
      const history = c.op !== 'delete' ? itemNode(c.path, 'history') : undefined;
      if (history) {
        const { job, item } = history;
        for (const h of decodeHistory(server.peek(c.path)?.data)) {
          if (h.outcome !== 'missed' && h.outcome !== 'skipped') continue;
          const seen = `${c.path}|${h.outcome}|${h.fireTime}|${h.at}|${h.error}`;
          if (notesSeen.has(seen)) continue;
          notesSeen.add(seen);
          log.notes.push({ atMs: clock.nowMs, job, item, outcome: h.outcome, count: Number(/^(\d+)/.exec(h.error ?? '')?.[1] ?? 1), latestMs: Date.parse(h.fireTime) });
        }
      }
      const born = c.op === 'create' ? itemNode(c.path, 'item') : undefined;
      if (born) log.itemBirths.push({ ...born, zxid, atMs: clock.nowMs });
      const group = (c.op === 'setData' || c.op === 'create') && c.path.startsWith(`${paths.assignments}/`) ? Number(c.path.slice(paths.assignments.length + 1)) : undefined;
      if (group !== undefined) {
        const record = decodeAssignmentGroup(server.peek(c.path)?.data, group);
        const jobs = new Set([...(record?.jobs.keys() ?? []), ...[...owners.keys()].filter((job) => assignmentGroupOf(job) === group)]);
        for (const job of jobs) {
          const before = owners.get(job) ?? [];
          const now = record?.jobs.get(job)?.owners ?? [];
          for (let i = 0; i < Math.max(before.length, now.length); i++) if (before[i] !== now[i]) ownerChangedAt.set(`${job}#${i}`, clock.nowMs);
          owners.set(job, now);
        }
        const member = record ? server.peek(`${memberPathPrefix}${record.leader}`) : undefined;
        if (!record || !member || member.stat.ephemeralOwner !== session) {
          const detail = !record ? 'unreadable record' : !member ? `leader ${record.leader} has no member node` : `written by session ${session.toString(16)}, leader ${record.leader} is session ${member.stat.ephemeralOwner.toString(16)}`;
          log.incidents.push({ kind: 'assignment-write', atMs: clock.nowMs, path: c.path, zxid, detail });
        }
      }
    }
  };

  const logger: Logger = options.logs
    ? pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => trace.record('log', line.trimEnd()) })
    : pino({ level: 'silent' });

  // The operator: zkctl's FleetOperator on a session of its own.
  const operatorZk = new SimZkClient({ server, clock, random: random.fork(), trace, process: 'operator', sessionTimeoutMs: 30_000 });
  const operator = new FleetOperator(operatorZk, paths);

  const runsByCtx = new WeakMap<JobContext, RunRecord>();
  const jobsByName = new Map(scenario.jobs.map((j) => [j.definition.name, j]));
  const sessionJobs = scenario.jobs.map((j) => ({ definition: j.definition, overwrite: false }));
  const stats = { runs: 0, fires: 0, events: 0, virtualMs: 0, actions: {} as Record<string, number> };

  // When its handler was entered (told a little later: `AFTER_ENTRIES_MS`, or after a freeze); a
  // poisoned fire, never entered, now.
  const onStarted = (process: string) => (req: FireRequest, token: string, _enteredAt?: number, enteredMs?: number) => {
    stats.fires++;
    log.started.push({
      atMs: enteredMs ?? clock.nowMs,
      process,
      job: req.job,
      item: req.item,
      fireMs: req.fireTime.getTime(),
      reason: req.reason,
      token: BigInt(token),
      missed: req.recorded?.missed ? { count: req.recorded.missed.count, latestMs: req.recorded.missed.latest.getTime() } : undefined,
      skipped: req.recorded?.skipped ? { count: req.recorded.skipped.count, latestMs: req.recorded.skipped.latest.getTime() } : undefined,
      poisoned: req.poison !== undefined,
    });
  };

  const workers: SimWorker[] = [];
  const incarnations: number[] = [];
  const skews = new Map<string, number>();
  const workerRandom = random.fork();
  const spawn = (slot: number): SimWorker => {
    incarnations[slot] = (incarnations[slot] ?? 0) + 1;
    const process = `w${slot}.${incarnations[slot]}`;
    const own = workerRandom.fork();
    const w: SimWorker = new SimWorker({
      id: `w${slot}`,
      process,
      clock,
      server,
      paths,
      random: own,
      trace,
      sessionTimeoutMs: scenario.sessionTimeoutMs,
      jobs: sessionJobs,
      log: logger.child({ worker: `w${slot}`, process }),
      behaviour: (job, worker) => {
        const spec = jobsByName.get(job)!;
        return {
          durationMs: () => spec.minRunMs + own.int(spec.maxRunMs - spec.minRunMs + 1),
          fails: () => own.chance(spec.failRate),
          entered: (ctx) => {
            stats.runs++;
            const session = worker.sessionOf(ctx);
            const run: RunRecord = {
              process,
              session,
              job: ctx.job,
              item: ctx.item,
              fireMs: ctx.fireTime.getTime(),
              attempt: ctx.attempt,
              token: BigInt(ctx.fencingToken),
              startMs: clock.nowMs,
              sessionLive: server.liveSessions().includes(session),
              held: holdsRun(session, ctx.job, ctx.item, ctx.fireTime.getTime()),
            };
            runsByCtx.set(ctx, run);
            log.runs.push(run);
            trace.record(process, `run ${ctx.job}#${ctx.item} fire ${new Date(run.fireMs).toISOString()} attempt ${ctx.attempt} token ${ctx.fencingToken} entered`);
          },
          left: (ctx, aborted) => {
            const run = runsByCtx.get(ctx);
            if (run) {
              run.endMs = clock.nowMs;
              run.aborted = aborted;
              run.interrupted = aborted && (ctx.signal.reason as { code?: string } | undefined)?.code === 'LEASE_LOST';
            }
            trace.record(process, `run ${ctx.job}#${ctx.item} attempt ${ctx.attempt} ${aborted ? 'aborted' : 'returned'}`);
          },
        };
      },
      onRun: { started: onStarted(process), notStarted: (req) => { if (req.poison) onStarted(process)(req, '0'); } },
      recorder: { record: (run) => log.recorded.push({ ...run, process, atMs: clock.nowMs }) },
      // Reads that straddle a move of the item away from the member are no contradiction: the
      // takeover read on a view of the assignment that was no longer the server's (its begin would fail its fence).
      onLedgerDisagreement: ({ job, item, member, sinceMs, detail }) => {
        const moved = (ownerChangedAt.get(`${job}#${item}`) ?? -1) >= sinceMs || owners.get(job)?.[item] !== member;
        if (moved) trace.record(process, `takeover of ${job}#${item} read across a move of the item (not held against it): ${detail}`);
        else log.incidents.push({ kind: 'ledger-disagreement', atMs: clock.nowMs, process, job, item, detail });
      },
    });
    workers[slot] = w;
    w.start();
    return w;
  };

  // ---- the director: faults and operator actions at their times ----
  const director = clock.timers('director');
  /** Runs one operator request; resolves whether it was done. */
  const operatorDo = async (what: string, op: () => Promise<unknown>, extra: { job?: string; item?: number; force?: boolean; removed?: number[] } = {}): Promise<boolean> => {
    const atMs = clock.nowMs;
    try {
      await op();
      log.operator.push({ atMs, action: what, ...extra });
      trace.record('operator', `${what}: ok`);
      return true;
    } catch (err) {
      log.operator.push({ atMs, action: what, ...extra, error: (err as Error).message });
      trace.record('operator', `${what}: ${(err as Error).message}`);
      return false;
    }
  };
  const perform = (a: FleetAction): void => {
    stats.actions[a.kind] = (stats.actions[a.kind] ?? 0) + 1;
    switch (a.kind) {
      case 'crash': {
        const w = workers[a.worker]!;
        if (!w.alive) return;
        trace.record('director', `crash ${w.process}`);
        log.processes.push({ atMs: clock.nowMs, process: w.process, kind: 'crashed' });
        w.crash();
        // Its handlers died with it.
        for (const r of log.runs) {
          if (r.process !== w.process || r.endMs !== undefined) continue;
          r.endMs = clock.nowMs;
          r.interrupted = true;
        }
        director.setTimeout(() => spawn(a.worker), a.restartAfterMs);
        return;
      }
      case 'freeze': {
        const w = workers[a.worker]!;
        if (!w.alive || clock.isFrozen(w.process)) return;
        log.processes.push({ atMs: clock.nowMs, process: w.process, kind: 'frozen' });
        w.freeze();
        director.setTimeout(() => thaw(w), a.forMs);
        return;
      }
      case 'partition': {
        const w = workers[a.worker]!;
        trace.record('director', `partition ${w.process}`);
        w.partition();
        director.setTimeout(() => w.heal(), a.forMs);
        return;
      }
      case 'drop':
        workers[a.worker]!.client?.dropConnection();
        return;
      case 'lose':
        workers[a.worker]!.client?.loseNextRequest(a.when);
        return;
      case 'slow': {
        const w = workers[a.worker]!;
        w.slow({ minMs: 1, maxMs: a.maxMs });
        director.setTimeout(() => w.slow(undefined), a.forMs);
        return;
      }
      case 'skew': {
        const w = workers[a.worker]!;
        trace.record('director', `step the wall clock of ${w.process} by ${a.deltaMs} ms`);
        clock.stepWall(a.deltaMs, w.process);
        skews.set(w.process, (skews.get(w.process) ?? 0) + a.deltaMs);
        return;
      }
      case 'disable':
      case 'enable': {
        const what = `${a.kind} ${a.job}${a.item === undefined ? '' : ` item ${a.item}`}`;
        void operatorDo(what, () => (a.kind === 'disable' ? operator.disable(a.job, a.item) : operator.enable(a.job, a.item)), { job: a.job, item: a.item });
        return;
      }
      case 'move':
        void operatorDo(`move ${a.job} ${a.item} to w${a.worker}`, () => operator.move(a.job, a.item, `w${a.worker}`), { job: a.job, item: a.item });
        return;
      case 'drain':
        void operatorDo(`drain w${a.worker}`, () => operator.drain(`w${a.worker}`));
        return;
      case 'undrain':
        void operatorDo(`undrain w${a.worker}`, () => operator.undrain(`w${a.worker}`));
        return;
      case 'reshard': {
        const before = decodeJob(server.peek(paths.job(a.job))?.data)?.shards ?? 0;
        const removed = Array.from({ length: Math.max(0, before - a.shards) }, (_, k) => a.shards + k);
        void operatorDo(`reshard ${a.job} to ${a.shards}${a.force ? ' --force' : ''}`, () => operator.reshard(a.job, a.shards, { force: a.force }), { job: a.job, force: a.force, removed }).then((done) => {
          // A forced reshard down is undone soon after (a mistake corrected): the removed items
          // come back as new nodes while the runs cut off from the old ones may still be going.
          if (done && a.force && removed.length > 0) {
            director.setTimeout(() => void operatorDo(`reshard ${a.job} back to ${before}`, () => operator.reshard(a.job, before), { job: a.job }), 500 + (a.atMs % 2500));
          }
        });
        return;
      }
      case 'trigger':
        void operatorDo(`trigger ${a.job}${a.item === undefined ? '' : ` item ${a.item}`}`, () => operator.trigger(a.job, a.item), { job: a.job, item: a.item });
        return;
    }
  };
  const thaw = (w: SimWorker): void => {
    if (!clock.isFrozen(w.process)) return;
    log.processes.push({ atMs: clock.nowMs, process: w.process, kind: 'thawed' });
    w.thaw();
  };

  // ---- the sampler: each job's state at the server, for the lost-fire check ----
  const sampler = clock.timers('checker');
  const sample = (): void => {
    for (const spec of scenario.jobs) {
      const job = spec.definition.name;
      const def = decodeJob(server.peek(paths.job(job))?.data);
      const control = decodeControl(server.peek(paths.control(job))?.data);
      const assignment = decodeJobAssignment(server.peek(assignmentNodeOf(paths, job))?.data, job);
      const shards = def?.shards ?? 0;
      const disabled = new Set<number>([...control.disabledItems, ...(assignment?.disabled ?? [])]);
      if (control.disabled) for (let i = 0; i < shards; i++) disabled.add(i);
      const ownedLive = Array.from({ length: shards }, (_, i) => {
        const owner = assignment?.owners[i];
        return typeof owner === 'string' && server.peek(paths.member(owner)) !== undefined;
      });
      log.samples.push({ atMs: clock.nowMs, job, shards, disabled, ownedLive });
    }
  };
  sampler.setInterval(sample, SAMPLE_MS);

  // ---- run ----
  void operatorZk.start().then(() => (operatorSession = operatorZk.serverSessionId), () => undefined);
  for (let slot = 0; slot < scenario.workers; slot++) spawn(slot);
  for (const a of scenario.actions) director.setTimeout(() => perform(a), a.atMs);
  await clock.run({ untilMs: scenario.activeMs });
  // Everything heals; every worker is back (undrained, clocks right); the fleet runs on.
  trace.record('director', 'end of faults: heal, thaw, undrain, clocks back');
  for (const w of workers) {
    thaw(w);
    w.heal();
    w.slow(undefined);
    const skew = skews.get(w.process);
    if (skew) clock.stepWall(-skew, w.process);
    skews.delete(w.process);
  }
  // Every worker undrained, every item enabled again (its owner's takeover then records what it
  // did not run meanwhile), one request at a time.
  void (async () => {
    for (let slot = 0; slot < scenario.workers; slot++) await operatorDo(`undrain w${slot}`, () => operator.undrain(`w${slot}`));
    for (const spec of scenario.jobs) {
      const job = spec.definition.name;
      const control = decodeControl(server.peek(paths.control(job))?.data);
      if (control.disabled) await operatorDo(`enable ${job}`, () => operator.enable(job), { job });
      for (const item of control.disabledItems) await operatorDo(`enable ${job} item ${item}`, () => operator.enable(job, item), { job, item });
    }
  })();
  const endMs = scenario.activeMs + scenario.tailMs;
  await clock.run({ untilMs: endMs });
  stats.events = clock.events;
  stats.virtualMs = clock.nowMs;

  // ---- the final state, then the checker ----
  // Every ledger part as it ends (run protocol v2, step 4c: a current claim is an item's frontier,
  // no record write has it): the frontier the checker holds the fleet to is the largest of the
  // record's and the current claims, never a claim from before the item was made.
  const members = new Set(server.peek(paths.workers)?.children ?? []);
  const parts: LedgerPartRead[] = [];
  for (const member of server.peek(paths.ledgers)?.children ?? []) {
    for (const name of server.peek(paths.ledger(member))?.children ?? []) {
      const path = `${paths.ledger(member)}/${name}`;
      const node = server.peek(path);
      const read = peekLedgerPart(server, path);
      if (node && read.ok) parts.push({ member, live: members.has(member), mzxid: node.stat.mzxid, entries: read.value });
    }
  }
  const final: FinalItem[] = [];
  for (const spec of scenario.jobs) {
    const job = spec.definition.name;
    const shards = decodeJob(server.peek(paths.job(job))?.data)?.shards ?? 0;
    for (let item = 0; item < shards; item++) {
      const node = server.peek(paths.item(job, item));
      if (!node) continue;
      const history = decodeHistory(server.peek(paths.history(job, item))?.data);
      const progress = decodeProgress(node.data);
      const { claimMs } = itemLedgerView(parts, job, item, { mzxid: node.stat.mzxid, by: progress.by });
      if (claimMs !== undefined && claimMs >= node.stat.ctime && (progress.lastScheduled === undefined || claimMs > Date.parse(progress.lastScheduled))) {
        progress.lastScheduled = new Date(claimMs).toISOString();
      }
      final.push({ job, item, bornWallMs: node.stat.ctime, progress, history });
    }
  }
  const { violations, pending } = checkFleetFully({ scenario, log, final, startWallMs, endMs });
  for (const w of workers) if (w.alive) void w.stop();
  return { seed, activeMs: options.scenario?.activeMs, scenario, violations, pending, trace, stats };
}
