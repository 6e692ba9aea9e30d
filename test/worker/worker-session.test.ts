import { afterEach, describe, expect, it } from 'vitest';
import { WorkerSession } from '../../src/worker/worker-session.js';
import type { SimZkClient } from '../../src/simulation/sim-zk-client.js';
import { SimWorld } from '../simulation/sim-world.js';
import { intercept } from '../support/intercept.js';
import { SimHandlerLoader } from '../../src/simulation/sim-handler-loader.js';
import { simTime } from '../../src/simulation/sim-time.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';
import { assignmentIn, assignmentPath } from '../support/assignments.js';
import { assignmentGroupOf } from '../../src/model/assignment-group.js';
import { RUN_PROTOCOL, decodeMemberInfo, encodeMemberInfo } from '../../src/membership/member-info.js';
import { ProtocolMismatchError } from '../../src/errors/protocol-mismatch-error.js';
import { LeaseLostError } from '../../src/errors/lease-lost-error.js';
import { NotAuthorizedError } from '../../src/zk/zk-errors.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { Clock } from '../../src/clock/clock.js';
import { LEDGER_PARTS, ledgerPartOf } from '../../src/model/member-ledger.js';
import { peekLedgerPart } from '../../src/simulation/ledger-observer.js';

const JOB = 'tick';
const SHARDS = 4;

/** A handler entry as the handler saw it: on which worker, which fire, when (the process's wall clock). */
interface Entry {
  worker: string;
  item: number;
  fireMs: number;
  attempt: number;
  enteredMs: number;
  /** The server's (true) wall time at entry. */
  trueMs: number;
  leftMs?: number;
  aborted?: boolean;
  reason?: unknown;
}

interface Member {
  id: string;
  zk: SimZkClient;
  session: WorkerSession;
  time: Clock;
}

/**
 * Real `WorkerSession`s over the simulation's ZooKeeper and clock: one simulated process per
 * worker, handlers that work `runMs` on that process's clock and record what they saw.
 */
class SessionWorld extends SimWorld {
  readonly paths = new ZkPaths('ws');
  readonly entries: Entry[] = [];
  readonly members: Member[] = [];

  constructor(
    readonly job: JobDefinition,
    private readonly runMs = 100,
  ) {
    super(15);
  }

  /** A worker `id` in a process of its own: its client is started, its session built (not started). */
  async worker(id: string, options: { maxClockSkewMs?: number } = {}): Promise<Member> {
    const zk = this.client({ process: id, sessionTimeoutMs: 4000 });
    await this.settle(zk.start());
    const time = simTime(this.clock.timers(id));
    const loader = new SimHandlerLoader(time, () => ({
      durationMs: () => this.runMs,
      entered: (ctx) => this.entries.push({ worker: id, item: ctx.item, fireMs: ctx.fireTime.getTime(), attempt: ctx.attempt, enteredMs: time.now(), trueMs: this.clock.wallNow() }),
      left: (ctx, aborted) => {
        const e = this.entries.findLast((x) => x.worker === id && x.item === ctx.item && x.fireMs === ctx.fireTime.getTime());
        if (e) Object.assign(e, { leftMs: time.now(), aborted, reason: aborted ? ctx.signal.reason : undefined });
      },
    }));
    const session = new WorkerSession({
      zk,
      paths: this.paths,
      workerId: id,
      labels: {},
      capacity: 1,
      jobs: [{ definition: this.job, overwrite: false }],
      loader,
      log: silentLogger(),
      time,
      random: () => this.random.float(),
      ...options,
    });
    const member = { id, zk, session, time };
    this.members.push(member);
    return member;
  }

  /** Runs the clock until `p` settles (at most 60 s of virtual time here), and returns its outcome. */
  override settle<T>(p: Promise<T>, maxMs = 60_000): Promise<T> {
    return super.settle(p, maxMs);
  }

  override until(condition: () => boolean, maxMs = 60_000): Promise<void> {
    return super.until(condition, maxMs);
  }

  /** Runs the clock until the server's wall clock reads `wallMs`. */
  untilWall(wallMs: number): Promise<void> {
    return this.clock.advanceTo(this.clock.nowMs + Math.max(0, wallMs - this.clock.wallNow()));
  }

  /** The next whole second of the server's wall clock plus `offsetMs`. */
  nextSecond(offsetMs = 0): number {
    return Math.ceil((this.clock.wallNow() + 1) / 1000) * 1000 + offsetMs;
  }

  /** The owner (member name) of each item in the assignment ZooKeeper holds. */
  owners(): (string | null)[] {
    return assignmentIn(this.server.peek(assignmentPath(this.paths, JOB))?.data, JOB)?.owners ?? [];
  }

  memberNode(m: Member) {
    const node = this.server.peek(this.paths.member(m.session.member.name));
    return node && decodeMemberInfo(node.data);
  }

  /** Fires of `item` entered, ascending (any worker, any attempt). */
  fires(item: number): number[] {
    return this.entries.filter((e) => e.item === item).map((e) => e.fireMs).sort((a, b) => a - b);
  }

  async closeAll(): Promise<void> {
    for (const m of this.members) {
      await this.settle(m.session.close());
      await this.settle(m.zk.close());
    }
  }
}

/** Every second from `fromMs` to `toMs` (both whole seconds), inclusive. */
function seconds(fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += 1000) out.push(t);
  return out;
}

function everySecond(extra: Partial<JobDefinition> = {}): JobDefinition {
  return { ...JOB_DEFAULTS, name: JOB, cron: '* * * * * *', shards: SHARDS, itemParameters: {}, handler: './sim.js', retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 1000 }, ...extra };
}

describe('WorkerSession on simulated ZooKeeper and time', () => {
  let world: SessionWorld | undefined;
  afterEach(async () => {
    await world?.closeAll();
    world = undefined;
  });

  it('start(): registers a member, leads, publishes the assignment, owns every item, enters each handler at its fire instant', async () => {
    const w = (world = new SessionWorld(everySecond()));
    const a = await w.worker('a');
    expect(a.session.isLeader).toBe(false);
    expect(a.session.assignmentsCurrent).toBe(false);

    await w.settle(a.session.start());
    const name = a.session.member.name;
    expect(w.server.peek(w.paths.workers)?.children).toEqual([name]);
    expect(w.memberNode(a)).toMatchObject({ id: 'a', state: 'active', jobs: [JOB], clock: { ok: true } });
    await w.until(() => w.owners().length === SHARDS && a.session.scheduler.owned()[JOB]?.length === SHARDS);
    expect(a.session.assignmentsCurrent).toBe(true);
    expect(a.session.isLeader).toBe(true);
    expect(w.owners()).toEqual(Array(SHARDS).fill(name));
    expect(assignmentIn(w.server.peek(assignmentPath(w.paths, JOB))?.data, JOB)?.leader).toBe(name);
    const ownedAt = w.clock.wallNow();

    await w.untilWall(w.nextSecond(5000 + 500));
    const first = Math.ceil((ownedAt + 1) / 1000) * 1000;
    const last = first + 5000;
    for (let item = 0; item < SHARDS; item++) {
      expect(w.fires(item)).toEqual(seconds(first, last));
      // The item's frontier at the server is its last fire: its member's ledger claims it (run
      // protocol v2, step 4c: the steady begins write the claim, not the record).
      const part = w.paths.ledgerPart(name, ledgerPartOf(JOB, LEDGER_PARTS));
      const read = peekLedgerPart(w.server, part);
      expect(read.ok && read.value.get(JOB)).toMatchObject({ t: last, b: expect.any(Set) });
      expect(read.ok && read.value.get(JOB)!.b.has(item)).toBe(true);
    }
    for (const e of w.entries) {
      expect(e.enteredMs).toBe(e.fireMs);
      expect(e.aborted).toBe(false);
    }

    await w.settle(a.session.close());
    expect(a.session.isLeader).toBe(false);
    expect(a.session.assignmentsCurrent).toBe(false);
    expect(w.server.peek(w.paths.workers)?.children).toEqual([]);
  });

  for (const leave of ['shutdown', 'close'] as const) {
    it(`two sessions split the items; when one leaves (${leave === 'shutdown' ? 'drain: shutdown(graceMs)' : 'close()'}), the other takes them over: no fire missed or run twice`, async () => {
      const w = (world = new SessionWorld(everySecond(), 300));
      const a = await w.worker('a');
      await w.settle(a.session.start());
      const b = await w.worker('b');
      await w.settle(b.session.start());
      const names = [a.session.member.name, b.session.member.name] as const;
      await w.until(() => a.session.scheduler.owned()[JOB]?.length === SHARDS / 2 && b.session.scheduler.owned()[JOB]?.length === SHARDS / 2);
      expect(w.owners().filter((o) => o === names[0])).toHaveLength(SHARDS / 2);
      expect(a.session.isLeader).toBe(true);
      expect(b.session.isLeader).toBe(false);
      const splitAt = w.clock.wallNow();
      const aItems = a.session.scheduler.owned()[JOB]!;

      // Leave while a's runs of the instant are in flight (drain) or after they returned (close).
      const leaveAt = w.nextSecond(2000 + (leave === 'shutdown' ? 100 : 600));
      await w.untilWall(leaveAt);
      const inFlight = w.entries.filter((e) => e.worker === 'a' && e.leftMs === undefined);
      expect(inFlight.length).toBe(leave === 'shutdown' ? SHARDS / 2 : 0);
      if (leave === 'shutdown') await w.settle(a.session.shutdown(5000));
      else await w.settle(a.session.close());
      await w.settle(a.zk.close());
      // Drained: the runs in flight finished (not aborted) before a left.
      for (const e of inFlight) expect(e).toMatchObject({ aborted: false });
      expect(w.server.peek(w.paths.member(names[0]))).toBeUndefined();

      // (A draining leader may hand every item over before it leaves: b leads once a's member node is gone.)
      await w.until(() => w.owners().every((o) => o === names[1]) && b.session.scheduler.owned()[JOB]?.length === SHARDS && b.session.isLeader);
      await w.untilWall(w.nextSecond(3000 + 500));
      const last = Math.floor(w.clock.wallNow() / 1000) * 1000;

      const first = Math.ceil((splitAt + 1) / 1000) * 1000;
      for (let item = 0; item < SHARDS; item++) {
        // Every instant once, whoever ran it; the items that moved were run by both.
        expect(w.fires(item)).toEqual(seconds(first, last));
        expect(w.entries.filter((e) => e.item === item && e.attempt > 1)).toEqual([]);
        const by = new Set(w.entries.filter((e) => e.item === item).map((e) => e.worker));
        expect([...by].sort()).toEqual(aItems.includes(item) ? ['a', 'b'] : ['b']);
        // No two runs of an item overlap.
        const runs = w.entries.filter((e) => e.item === item).sort((x, y) => x.trueMs - y.trueMs);
        for (let k = 1; k < runs.length; k++) expect(runs[k]!.trueMs).toBeGreaterThanOrEqual(runs[k - 1]!.leftMs!);
      }
      // The hand-over took less than a period: b entered even the first fire of a's items at its instant.
      for (const e of w.entries) expect(e.enteredMs).toBe(e.fireMs);
    });
  }

  it('close() is idempotent: the member node is deleted once, later calls do nothing', async () => {
    const w = (world = new SessionWorld(everySecond()));
    const a = await w.worker('a');
    await w.settle(a.session.start());
    await w.until(() => a.session.scheduler.owned()[JOB]?.length === SHARDS);
    const closing = [a.session.close(), a.session.close()];
    await w.settle(Promise.all(closing));
    expect(a.session.scheduler.started).toBe(false);
    expect(w.server.peek(w.paths.workers)?.children).toEqual([]);
    // Another session's member node is not touched by a late close of this one.
    const b = await w.worker('b');
    await w.settle(b.session.start());
    // Later calls send nothing to ZooKeeper (its session is still open).
    const requestsOfA = () => w.trace.lines.filter((l) => l.includes(` server s ${a.zk.serverSessionId.toString(16).padStart(16, '0')} #`)).length;
    const before = requestsOfA();
    expect(before).toBeGreaterThan(0);
    await w.settle(a.session.close());
    await w.settle(a.session.close());
    await w.clock.advanceBy(100);
    expect(requestsOfA()).toBe(before);
    expect(w.server.peek(w.paths.workers)?.children).toEqual([b.session.member.name]);
    const entered = w.entries.length;
    await w.untilWall(w.nextSecond(2500));
    expect(w.entries.slice(entered).every((e) => e.worker === 'b')).toBe(true);
  });

  it('a wall-clock step beyond maxClockSkewMs pauses its firing: no instant still to come is entered, it publishes clock.ok: false and is given no items', async () => {
    const w = (world = new SessionWorld(everySecond()));
    const a = await w.worker('a', { maxClockSkewMs: 2000 });
    await w.settle(a.session.start());
    const b = await w.worker('b', { maxClockSkewMs: 2000 });
    await w.settle(b.session.start());
    await w.until(() => b.session.scheduler.owned()[JOB]?.length === SHARDS / 2);
    await w.untilWall(w.nextSecond(1500));
    expect(w.entries.some((e) => e.worker === 'a')).toBe(true);

    const steppedAt = w.clock.wallNow();
    w.clock.stepWall(10_000, 'a');
    await w.until(() => w.memberNode(a)?.clock?.ok === false);
    expect(w.memberNode(a)?.clock?.skewMs).toBeGreaterThan(2000);
    await w.until(() => w.owners().every((o) => o === b.session.member.name));
    await w.untilWall(w.nextSecond(4500));

    // Never an instant still to come (true time), and nothing at all once stepped.
    for (const e of w.entries) expect(e.fireMs).toBeLessThanOrEqual(e.trueMs);
    expect(w.entries.filter((e) => e.worker === 'a' && e.trueMs > steppedAt)).toEqual([]);
    expect(a.session.scheduler.owned()[JOB] ?? []).toEqual([]);
    expect(w.memberNode(b)?.clock?.ok).toBe(true);
    // b runs every item, at its instant, from the step on.
    const from = Math.ceil(w.clock.wallNow() / 1000) * 1000 - 2000;
    for (let item = 0; item < SHARDS; item++) expect(w.fires(item).filter((t) => t >= from)).toEqual([from, from + 1000]);
  });

  it('a new leader whose first requests meet a connection reset still leads once reconnected: the items of the member that left are handed to it (seed 43353)', async () => {
    const w = (world = new SessionWorld(everySecond()));
    const a = await w.worker('a');
    await w.settle(a.session.start());
    const b = await w.worker('b');
    await w.settle(b.session.start());
    await w.until(() => b.session.scheduler.owned()[JOB]?.length === SHARDS / 2);
    expect(a.session.isLeader).toBe(true);

    // a leaves; b becomes leader and its coordinator's first requests are in flight when the connection resets.
    void a.session.close();
    await w.until(() => b.session.isLeader);
    b.zk.dropConnection();
    await w.until(() => w.owners().every((o) => o === b.session.member.name) && b.session.scheduler.owned()[JOB]?.length === SHARDS, 30_000);
    await w.settle(a.zk.close());

    // And it keeps leading: a member that joins later is given its share.
    const c = await w.worker('c');
    await w.settle(c.session.start());
    await w.until(() => c.session.scheduler.owned()[JOB]?.length === SHARDS / 2, 30_000);
  });

  it('abandon() on lease loss aborts its runs at once with the reason, starts nothing more and writes nothing', async () => {
    const w = (world = new SessionWorld(everySecond(), 700));
    const a = await w.worker('a');
    await w.settle(a.session.start());
    await w.until(() => a.session.scheduler.owned()[JOB]?.length === SHARDS);
    await w.untilWall(w.nextSecond(200));
    const running = w.entries.filter((e) => e.leftMs === undefined);
    expect(running).toHaveLength(SHARDS);
    // Every run is in flight in the worker's ledger (run protocol v2: that holds them).
    const [member] = w.server.peek(w.paths.ledgers)?.children ?? [];
    const partPath = w.paths.ledgerPart(member!, ledgerPartOf(JOB, LEDGER_PARTS));
    const part = () => w.server.peek(partPath);
    const read = peekLedgerPart(w.server, partPath);
    expect(read.ok && [...(read.value.get(JOB)?.f.keys() ?? [])].sort()).toEqual([0, 1, 2, 3]);
    const written = part()?.stat.mzxid;

    const abandonedAt = w.clock.wallNow();
    const reason = new LeaseLostError('lease lost: test');
    a.session.abandon(reason);
    await w.clock.advanceBy(3000);
    for (const e of running) expect(e).toMatchObject({ aborted: true, leftMs: abandonedAt, reason });
    expect(w.entries.filter((e) => e.trueMs > abandonedAt)).toEqual([]);
    expect(a.session.scheduler.started).toBe(false);
    // Nothing released: the ledger stays as it was (the runs are the items' next owners' to run again).
    expect(part()?.stat.mzxid).toBe(written);
  });
});

describe('WorkerSession.start with many jobs', () => {
  it('stops beginning the jobs still waiting in its window once one job\'s registration failed (the start fails with it)', async () => {
    const w = new SessionWorld(everySecond());
    const zk = w.client({ process: 'a', sessionTimeoutMs: 4000 });
    await w.settle(zk.start());
    const jobs = Array.from({ length: 200 }, (_, i) => ({ definition: everySecond({ name: `j${String(i).padStart(3, '0')}` }), overwrite: false }));
    const asked = new Set<string>();
    const failing = new Proxy(zk, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (key !== 'getDataIfExists') return (value as (...a: unknown[]) => unknown).bind(target);
        return (path: string, ...rest: unknown[]) => {
          const job = /\/jobs\/(j\d{3})$/.exec(path)?.[1];
          if (job) asked.add(job);
          if (job === 'j000') return Promise.reject(new Error('connection lost'));
          return (value as (...a: unknown[]) => unknown).call(target, path, ...rest);
        };
      },
    });
    const time = simTime(w.clock.timers('a'));
    const session = new WorkerSession({ zk: failing, paths: w.paths, workerId: 'a', labels: {}, capacity: 1, jobs, loader: new SimHandlerLoader(time, () => ({ durationMs: () => 100, entered: () => {}, left: () => {} })), log: silentLogger(), time, random: () => w.random.float() });
    await expect(w.settle(session.start())).rejects.toThrow('connection lost');
    await w.settle(new Promise<void>((resolve) => time.setTimeout(resolve, 5000))); // everything in flight settles
    expect(asked.has('j000')).toBe(true);
    expect(asked.size).toBeLessThanOrEqual(64); // the window's first jobs, not the 136 behind them
    await w.settle(session.close());
    await w.settle(zk.close());
  });
});

describe('WorkerSession: a fleet of one run protocol', () => {
  /** A member node as a worker from before protocol announcements writes it. */
  const oldMember = encodeMemberInfo({ id: 'old', host: 'h', pid: 1, jobs: [JOB], labels: {}, capacity: 1, state: 'active', startedAt: '2026-12-01T00:00:00.000Z', version: '0.9.0' });

  it('start() refuses a fleet with a live member of another run protocol and writes nothing into it; once it has left, joins', async () => {
    const w = new SessionWorld(everySecond());
    const old = w.client({ process: 'old', sessionTimeoutMs: 4000 });
    await w.settle(old.start());
    await w.settle(old.mkdirp(w.paths.workers));
    const oldName = (await w.settle(old.create(w.paths.member('m-00000000-'), oldMember, 'ephemeralSequential'))).split('/').pop()!;
    const a = await w.worker('a');
    const err = await w.settle(a.session.start().then(() => undefined, (e: unknown) => e));
    expect(err).toBeInstanceOf(ProtocolMismatchError);
    expect((err as ProtocolMismatchError).members).toEqual([{ name: oldName, id: 'old', protocol: null }]);
    expect(w.server.peek(w.paths.workers)?.children).toEqual([oldName]);
    expect(w.server.peek(w.paths.job(JOB))).toBeUndefined();
    await w.settle(a.session.close());

    await w.settle(old.close());
    const b = await w.worker('b');
    await w.settle(b.session.start());
    expect(w.memberNode(b)).toMatchObject({ id: 'b', protocol: RUN_PROTOCOL });
    await w.until(() => b.session.scheduler.owned()[JOB]?.length === SHARDS);
    await w.closeAll();
  });

  it('start() leaves again when a member of another protocol joined ahead of it, between its check and its join', async () => {
    const w = new SessionWorld(everySecond());
    const old = w.client({ process: 'old', sessionTimeoutMs: 4000 });
    await w.settle(old.start());
    const zk = w.client({ process: 'a', sessionTimeoutMs: 4000 });
    await w.settle(zk.start());
    let raced = false;
    // The old worker's node is made just before ours: its sequence is lower.
    const racing = intercept(zk, {
      create: async (original, path, ...rest) => {
        if (!raced && path.startsWith(`${w.paths.workers}/`)) {
          raced = true;
          await old.create(w.paths.member('m-00000000-'), oldMember, 'ephemeralSequential');
        }
        return original(path, ...rest);
      },
    });
    const time = simTime(w.clock.timers('a'));
    const session = new WorkerSession({ zk: racing, paths: w.paths, workerId: 'a', labels: {}, capacity: 1, jobs: [{ definition: everySecond(), overwrite: false }], loader: new SimHandlerLoader(time, () => ({ durationMs: () => 100, entered: () => {}, left: () => {} })), log: silentLogger(), time, random: () => w.random.float() });
    await expect(w.settle(session.start())).rejects.toBeInstanceOf(ProtocolMismatchError);
    expect(raced).toBe(true);
    // The worker closes a session whose start failed: its member node goes with it.
    await w.settle(session.close());
    await w.settle(zk.close());
    expect(w.server.peek(w.paths.workers)?.children).toHaveLength(1);
    await w.settle(old.close());
  });
});

describe('WorkerSession: begins after a fence', () => {
  it('one job whose assignment can no longer be read (no permission) gives no items and does not hold back the begins of the others', async () => {
    // (Their assignments are in two nodes: a node that cannot be read takes all of its jobs' items.)
    expect(assignmentGroupOf('j0')).not.toBe(assignmentGroupOf('j1'));
    const w = new SessionWorld(everySecond());
    const jobs = ['j0', 'j1'].map((name) => ({ definition: everySecond({ name }), overwrite: false }));
    const entries: Array<{ worker: string; job: string; item: number; fireMs: number }> = [];
    const start = async (id: string, wrap: (zk: SimZkClient) => SimZkClient = (zk) => zk) => {
      const zk = w.client({ process: id, sessionTimeoutMs: 4000 });
      await w.settle(zk.start());
      const time = simTime(w.clock.timers(id));
      const loader = new SimHandlerLoader(time, () => ({
        durationMs: () => 100,
        entered: (ctx) => entries.push({ worker: id, job: ctx.job, item: ctx.item, fireMs: ctx.fireTime.getTime() }),
        left: () => {},
      }));
      const session = new WorkerSession({ zk: wrap(zk), paths: w.paths, workerId: id, labels: {}, capacity: 1, jobs, loader, log: silentLogger(), time, random: () => w.random.float() });
      await w.settle(session.start());
      return { zk, session };
    };
    let armed = false;
    const a = await start('a', (zk) =>
      new Proxy(zk, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (typeof value !== 'function') return value;
          if (key !== 'getDataIfExists') return (value as (...x: unknown[]) => unknown).bind(target);
          return (path: string, ...rest: unknown[]) =>
            armed && path === assignmentPath(w.paths, 'j1')
              ? Promise.reject(new NotAuthorizedError('a', 'read', path))
              : (value as (...x: unknown[]) => unknown).call(target, path, ...rest);
        },
      }),
    );
    await w.until(() => a.session.scheduler.owned().j0?.length === SHARDS && a.session.scheduler.owned().j1?.length === SHARDS);
    armed = true;
    // A second worker joins: the leader (a) moves half of each job to it and fences a; a cannot
    // read j1's new assignment.
    const b = await start('b');
    await w.until(() => a.session.scheduler.owned().j0?.length === SHARDS / 2 && (a.session.scheduler.owned().j1?.length ?? 0) === 0);
    const fenced = w.server.peek(w.paths.member(a.session.member.name))!.stat.version;
    expect(fenced).toBeGreaterThan(0);
    // a goes on firing its half of j0 (its begins check the new fence), and runs nothing of j1.
    const after = w.clock.wallNow() + 1000;
    await w.until(() => entries.filter((e) => e.worker === 'a' && e.job === 'j0' && e.fireMs > after + 3000).length >= SHARDS / 2, 30_000);
    expect(entries.filter((e) => e.worker === 'a' && e.job === 'j1' && e.fireMs > after)).toEqual([]);
    for (const m of [b, a]) {
      await w.settle(m.session.close());
      await w.settle(m.zk.close());
    }
  });
});
