import type { FleetSnapshot } from '../api/fleet-snapshot.js';
import type { ConsoleZooKeeper, LiveSession } from './console-zookeeper.js';
import { diffFleet, type ConsoleEvent } from './fleet-events.js';

/** `session`: the console's ZooKeeper session went down (reconnecting) or is up again. */
export interface SessionEvent {
  type: 'session';
  state: 'up' | 'down';
}

/**
 * `activity`: runs of jobs no browser has open, too many in one batch to send one by one (a sweep
 * of a large fleet firing every second): how many there were and in how many jobs.
 */
export interface ActivityEvent {
  type: 'activity';
  runs: number;
  jobs: number;
}

export type HubEvent = ConsoleEvent | SessionEvent | ActivityEvent;

/** Changes seen within this window go out together (one diff of the jobs that changed). */
export const COALESCE_MS = 100;
/** More `run` events of jobs not open than this in one batch go out as one `activity` event. */
export const MAX_RUN_EVENTS = 500;

export interface EventHubOptions {
  /** @default COALESCE_MS */
  coalesceMs?: number;
  /** Whether a browser has the job open (its `run` events are always sent one by one). @default none is */
  isOpen?: (job: string) => boolean;
  /** @default MAX_RUN_EVENTS */
  maxRunEvents?: number;
}

/**
 * Turns the watches' changes into events for every browser: one diff per window of
 * {@link COALESCE_MS} however many changes came in it (coalesced under load), fanned out to all
 * subscribers. After a new session, the state it finds is diffed against the last one seen, so
 * what changed meanwhile is sent too.
 */
export class EventHub {
  private readonly listeners = new Set<(events: HubEvent[]) => void>();
  private prev: FleetSnapshot | undefined;
  private dirtyJobs = new Set<string>();
  private dirtyMembers = false;
  private timer: NodeJS.Timeout | undefined;
  private live: LiveSession | undefined;
  private started = false;
  private closed = false;

  private readonly coalesceMs: number;
  private readonly isOpen: (job: string) => boolean;
  private readonly maxRunEvents: number;

  constructor(private readonly zookeeper: ConsoleZooKeeper, options: EventHubOptions = {}) {
    this.coalesceMs = options.coalesceMs ?? COALESCE_MS;
    this.isOpen = options.isOpen ?? (() => false);
    this.maxRunEvents = options.maxRunEvents ?? MAX_RUN_EVENTS;
  }

  /** Follows the current session and every later one (call after `zookeeper.start()`). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.zookeeper.on('up', (live) => this.attach(live, true));
    this.zookeeper.on('down', () => {
      this.live = undefined;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.publish([{ type: 'session', state: 'down' }]);
    });
    this.attach(this.zookeeper.current(), false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }

  /** Calls `fn` with each batch of events; returns the function that stops it. */
  subscribe(fn: (events: HubEvent[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  private attach(live: LiveSession, resumed: boolean): void {
    this.live = live;
    live.cache.on('changed', ({ jobs, members }) => {
      if (this.live !== live) return;
      for (const j of jobs) this.dirtyJobs.add(j);
      this.dirtyMembers ||= members;
      this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
    });
    const next = live.cache.snapshot();
    if (resumed && this.prev) {
      const all = new Set([...this.prev.jobs.map((j) => j.name), ...next.jobs.map((j) => j.name)]);
      this.publish([{ type: 'session', state: 'up' }, ...diffFleet(this.prev, next, all, true)]);
    }
    this.prev = next;
  }

  private flush(): void {
    this.timer = undefined;
    const live = this.live;
    if (!live || this.closed) return;
    const jobs = this.dirtyJobs;
    const members = this.dirtyMembers;
    this.dirtyJobs = new Set();
    this.dirtyMembers = false;
    const next = live.cache.snapshot();
    const events = this.prev ? this.capRuns(diffFleet(this.prev, next, jobs, members)) : [];
    this.prev = next;
    if (events.length > 0) this.publish(events);
  }

  /** Replaces the `run` events of jobs not open by one `activity` event when they are too many. */
  private capRuns(events: ConsoleEvent[]): HubEvent[] {
    let count = 0;
    for (const e of events) if (e.type === 'run' && !this.isOpen(e.job)) count++;
    if (count <= this.maxRunEvents) return events;
    const jobs = new Set<string>();
    const kept: HubEvent[] = [];
    for (const e of events) {
      if (e.type === 'run' && !this.isOpen(e.job)) jobs.add(e.job);
      else kept.push(e);
    }
    kept.push({ type: 'activity', runs: count, jobs: jobs.size });
    return kept;
  }

  private publish(events: HubEvent[]): void {
    for (const fn of this.listeners) {
      try {
        fn(events);
      } catch {
        // one subscriber's failure never stops the others
      }
    }
  }
}
