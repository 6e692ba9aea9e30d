import type { FleetSnapshot } from '../api/fleet-snapshot.js';
import type { ConsoleZooKeeper, LiveSession } from './console-zookeeper.js';
import { diffFleet, type ConsoleEvent } from './fleet-events.js';

/** `session`: the console's ZooKeeper session went down (reconnecting) or is up again. */
export interface SessionEvent {
  type: 'session';
  state: 'up' | 'down';
}

export type HubEvent = ConsoleEvent | SessionEvent;

/** Changes seen within this window go out together (one diff of the jobs that changed). */
export const COALESCE_MS = 100;

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

  constructor(private readonly zookeeper: ConsoleZooKeeper, private readonly coalesceMs = COALESCE_MS) {}

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
    const events = this.prev ? diffFleet(this.prev, next, jobs, members) : [];
    this.prev = next;
    if (events.length > 0) this.publish(events);
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
