import { ZkshardError } from '../errors/zkshard-error.js';
import type { SeededRandom } from './seeded-random.js';

/** A pending timer, turn or interval of the simulation; returned by `SimTimers`, passed back to clear it. */
export interface SimTimer {
  /** No-ops, so that code written for Node's `Timeout` (`timer.unref()`) runs unchanged. */
  unref(): this;
  ref(): this;
  hasRef(): boolean;
}

interface Entry extends SimTimer {
  readonly id: number;
  readonly owner: string;
  due: number;
  seq: number;
  readonly fn: () => void;
  readonly intervalMs: number | undefined;
  cancelled: boolean;
}

/**
 * Timers and clocks as seen by one simulated process (a worker, the server): the same calls as
 * Node's globals, on virtual time. While its owner is frozen (`SimClock.freeze`), none of its
 * callbacks run; they run, overdue, once it is thawed, as after a long stall of a real event loop.
 */
export interface SimTimers {
  /** Virtual wall clock, ms since the epoch (`Date.now()`); it can be stepped. */
  now(): number;
  /** Virtual monotonic clock, ms (`performance.now()`); never steps. */
  monotonicNow(): number;
  setTimeout(fn: () => void, delayMs: number): SimTimer;
  setInterval(fn: () => void, intervalMs: number): SimTimer;
  /** Runs `fn` in a later turn at the current virtual time (`setImmediate`). */
  setImmediate(fn: () => void): SimTimer;
  clearTimeout(timer: SimTimer | undefined): void;
  clearInterval(timer: SimTimer | undefined): void;
  clearImmediate(timer: SimTimer | undefined): void;
}

export interface SimClockOptions {
  /** Virtual wall time at monotonic 0. @default 1_767_225_600_000 (2026-01-01T00:00:00Z) */
  startWallMs?: number;
  /**
   * When given, events due at the same instant in different processes run in an order drawn from
   * it (each process's own events keep their order, as Node keeps it); without it, in the order
   * they were scheduled.
   */
  random?: SeededRandom;
}

export interface SimRunOptions {
  /** Stop once virtual time would pass this instant (monotonic ms); the clock is then set to it. */
  untilMs?: number;
  /** Stop as soon as this holds (checked after every event, once its microtasks have run). */
  condition?: () => boolean;
  /** Give up (throw) after this many events: a guard against a run that never ends. @default 10_000_000 */
  maxEvents?: number;
}

/** Thrown when a simulated run exceeds its guard (`maxEvents`, `maxTimeMs`). */
export class SimRunawayError extends ZkshardError {
  constructor(message: string) {
    super('SIM_RUNAWAY', message);
  }
}

/**
 * The simulation's clock: virtual time (monotonic and wall) and one queue of every timer of every
 * simulated process, run one event at a time. Time only moves when the next event is later than
 * now, so a run takes no real time. Between two events every promise continuation the first one
 * released runs (`run` yields to the real event loop), so async code under test behaves as it
 * would on Node, and deterministically: the same schedule of events gives the same run.
 */
export class SimClock {
  private readonly startWallMs: number;
  private readonly random: SeededRandom | undefined;
  private monotonic = 0;
  private wallOffsetMs = 0;
  private readonly skewMs = new Map<string, number>();
  private seq = 0;
  private nextId = 1;
  private readonly heap: Entry[] = [];
  private readonly held = new Map<string, Entry[]>();
  private live = 0;
  private eventsRun = 0;

  constructor(options: SimClockOptions = {}) {
    this.startWallMs = options.startWallMs ?? 1_767_225_600_000;
    if (!Number.isFinite(this.startWallMs)) throw new RangeError(`sim-clock: startWallMs must be a finite number, got ${this.startWallMs}`);
    this.random = options.random;
  }

  /** Virtual monotonic time in ms since the simulation began. */
  get nowMs(): number {
    return this.monotonic;
  }

  /** Virtual wall time (ms since the epoch), with every `stepWall` of all processes and, given `owner`, of that process. */
  wallNow(owner?: string): number {
    return this.startWallMs + this.monotonic + this.wallOffsetMs + (owner === undefined ? 0 : (this.skewMs.get(owner) ?? 0));
  }

  /**
   * Steps the wall clock by `deltaMs` (may be negative), as an NTP correction would: of one
   * process (its clock is then off from the others') or, without `owner`, of all. Monotonic time
   * does not move.
   */
  stepWall(deltaMs: number, owner?: string): void {
    if (!Number.isFinite(deltaMs)) throw new RangeError(`sim-clock: stepWall(deltaMs) needs a finite number, got ${deltaMs}`);
    if (owner === undefined) this.wallOffsetMs += deltaMs;
    else this.skewMs.set(owner, (this.skewMs.get(owner) ?? 0) + deltaMs);
  }

  /** Events run so far. */
  get events(): number {
    return this.eventsRun;
  }

  /** Timers and turns not yet run nor cleared (frozen owners' included). */
  get pending(): number {
    return this.live;
  }

  /** The timers facade of one process (`owner` names it, e.g. `worker-1`, `server`). */
  timers(owner: string): SimTimers {
    const schedule = (fn: () => void, delayMs: number, intervalMs?: number): SimTimer =>
      this.schedule(owner, fn, delayMs, intervalMs);
    const clear = (timer: SimTimer | undefined): void => this.cancel(timer);
    return {
      now: () => this.wallNow(owner),
      monotonicNow: () => this.monotonic,
      setTimeout: (fn, delayMs) => schedule(fn, delayMs),
      setInterval: (fn, intervalMs) => schedule(fn, intervalMs, Math.max(1, intervalMs)),
      setImmediate: (fn) => schedule(fn, 0),
      clearTimeout: clear,
      clearInterval: clear,
      clearImmediate: clear,
    };
  }

  /** Stops running `owner`'s callbacks (a stalled process: a long GC, SIGSTOP, a starved event loop). */
  freeze(owner: string): void {
    if (this.held.has(owner)) return;
    const mine: Entry[] = [];
    const rest: Entry[] = [];
    for (const e of this.heap) (e.owner === owner ? mine : rest).push(e);
    this.heap.length = 0;
    for (const e of rest) this.push(e);
    this.held.set(owner, mine);
  }

  /** Lets `owner` run again: its overdue callbacks run first, in the order they came due. */
  thaw(owner: string): void {
    const mine = this.held.get(owner);
    if (!mine) return;
    this.held.delete(owner);
    for (const e of mine) this.push(e);
  }

  /** The process is gone: none of its pending timers will ever run (frozen or not). */
  kill(owner: string): void {
    const drop = (e: Entry) => {
      if (e.owner !== owner || e.cancelled) return;
      e.cancelled = true;
      this.live--;
    };
    this.heap.forEach(drop);
    this.held.get(owner)?.forEach(drop);
    this.held.delete(owner);
  }

  isFrozen(owner: string): boolean {
    return this.held.has(owner);
  }

  /**
   * Runs the next event synchronously (moving time forward to it) and returns true, or returns
   * false when nothing is pending. Prefer `run`, which lets promise continuations run in between.
   */
  step(): boolean {
    const e = this.popNext();
    if (!e) return false;
    this.runEntry(e);
    return true;
  }

  /** When the next event is due (monotonic ms), or undefined when nothing is pending. */
  nextDueMs(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.due;
  }

  /**
   * Runs events one by one, letting every promise continuation run after each, until `untilMs`
   * (time is then set to it), `condition` holds, or nothing is pending.
   */
  run(options: SimRunOptions = {}): Promise<void> {
    const maxEvents = options.maxEvents ?? 10_000_000;
    let ran = 0;
    return new Promise<void>((resolve, reject) => {
      // One event per turn of the real event loop: Node runs every microtask between two
      // setImmediate callbacks, so whatever an event released settles before the next one.
      const turn = (): void => {
        try {
          if (options.condition?.()) return resolve();
          const due = this.nextDueMs();
          if (due === undefined || (options.untilMs !== undefined && due > options.untilMs)) {
            if (options.untilMs !== undefined && options.untilMs > this.monotonic) this.monotonic = options.untilMs;
            return resolve();
          }
          if (++ran > maxEvents) throw new SimRunawayError(`sim-clock: more than ${maxEvents} events without reaching the end of the run (now ${this.monotonic} ms)`);
          this.step();
          setImmediate(turn);
        } catch (err) {
          reject(err);
        }
      };
      setImmediate(turn);
    });
  }

  /** Runs every event due up to `monotonicMs`, then sets the clock to it. */
  advanceTo(monotonicMs: number): Promise<void> {
    return this.run({ untilMs: monotonicMs });
  }

  /** Runs every event due within the next `ms`, then sets the clock `ms` later. */
  advanceBy(ms: number): Promise<void> {
    return this.run({ untilMs: this.monotonic + ms });
  }

  /** Runs until `condition` holds; throws `SimRunawayError` if `maxTimeMs` of virtual time pass first. */
  async runUntil(condition: () => boolean, maxTimeMs = 600_000): Promise<void> {
    const limit = this.monotonic + maxTimeMs;
    await this.run({ condition, untilMs: limit });
    if (!condition()) throw new SimRunawayError(`sim-clock: condition not reached within ${maxTimeMs} ms of virtual time`);
  }

  /**
   * Drives the clock in the background (for tests that await the simulated code directly):
   * whenever the real event loop is otherwise idle, the next event runs. `stop()` ends it and
   * resolves once it stopped; it rejects if the run passed `maxTimeMs` of virtual time.
   */
  pump(maxTimeMs = 3_600_000): { stop(): Promise<void> } {
    let stopped = false;
    const limit = this.monotonic + maxTimeMs;
    const done = new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        if (stopped) return resolve();
        const due = this.nextDueMs();
        if (due !== undefined) {
          if (due > limit) return reject(new SimRunawayError(`sim-clock: pump passed ${maxTimeMs} ms of virtual time`));
          try {
            this.step();
          } catch (err) {
            return reject(err);
          }
        }
        setImmediate(turn);
      };
      setImmediate(turn);
    });
    return {
      stop: async () => {
        stopped = true;
        await done;
      },
    };
  }

  // ---- internals -----------------------------------------------------------------------------

  private schedule(owner: string, fn: () => void, delayMs: number, intervalMs: number | undefined): SimTimer {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const entry: Entry = {
      id: this.nextId++,
      owner,
      due: this.monotonic + delay,
      seq: this.seq++,
      fn,
      intervalMs,
      cancelled: false,
      unref() {
        return this;
      },
      ref() {
        return this;
      },
      hasRef() {
        return true;
      },
    };
    this.live++;
    const held = this.held.get(owner);
    if (held) held.push(entry);
    else this.push(entry);
    return entry;
  }

  private cancel(timer: SimTimer | undefined): void {
    const e = timer as Entry | undefined;
    if (!e || e.cancelled || typeof e.id !== 'number') return;
    e.cancelled = true;
    this.live--;
  }

  private runEntry(e: Entry): void {
    if (e.due > this.monotonic) this.monotonic = e.due;
    this.eventsRun++;
    if (e.intervalMs !== undefined) {
      e.due = this.monotonic + e.intervalMs;
      e.seq = this.seq++;
      const held = this.held.get(e.owner);
      if (held) held.push(e);
      else this.push(e);
    } else {
      e.cancelled = true;
      this.live--;
    }
    e.fn();
  }

  private popNext(): Entry | undefined {
    this.dropCancelledTop();
    const first = this.pop();
    if (!first || !this.random) return first;
    // Same-instant events of several processes: draw which process goes first.
    const ties: Entry[] = [first];
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (!top || top.due > first.due) break;
      ties.push(this.pop()!);
    }
    if (ties.length === 1) return first;
    const owners: string[] = [];
    for (const t of ties) if (!owners.includes(t.owner)) owners.push(t.owner);
    const owner = this.random.pick(owners);
    const chosen = ties.find((t) => t.owner === owner)!;
    for (const t of ties) if (t !== chosen) this.push(t);
    return chosen;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!SimClock.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && SimClock.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && SimClock.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
