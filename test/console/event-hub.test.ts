import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EventHub, type HubEvent } from '../../src/console/event-hub.js';
import type { ConsoleZooKeeper } from '../../src/console/console-zookeeper.js';
import type { FleetSnapshot, ItemSnapshot, JobSnapshot } from '../../src/api/fleet-snapshot.js';
import { testJob } from '../support/test-job.js';

const FIRE = '2026-01-01T00:00:00.000Z';

function job(name: string, items: number, ran: boolean): JobSnapshot {
  return {
    name, definition: testJob(name, { shards: items }), version: 0, assignment: undefined,
    control: { disabled: false, disabledItems: [], pins: {} },
    items: Array.from({ length: items }, (_, item): ItemSnapshot => ({
      item, exists: true, run: null,
      progress: ran ? { lastScheduled: FIRE, lastCompleted: FIRE, outcome: 'success', attempt: 1, worker: 'w1' } : {},
    })),
  };
}

function fleet(jobs: JobSnapshot[]): FleetSnapshot {
  return { namespace: 'ns', readAt: Date.now(), members: [], drains: [], jobs };
}

/** A console session whose cache the test sets. */
function session(first: FleetSnapshot) {
  const cache = Object.assign(new EventEmitter(), { now: first, snapshot: () => cache.now });
  const zookeeper = Object.assign(new EventEmitter(), { current: () => ({ cache }) }) as unknown as ConsoleZooKeeper;
  return { cache, zookeeper };
}

describe('EventHub', () => {
  it('sends the runs of open jobs one by one; more than maxRunEvents of other jobs in one batch as one activity event', async () => {
    const { cache, zookeeper } = session(fleet([job('busy', 300, false), job('open', 3, false), job('quiet', 2, false)]));
    const hub = new EventHub(zookeeper, { coalesceMs: 0, isOpen: (j) => j === 'open', maxRunEvents: 500 });
    hub.start();
    const batches: HubEvent[][] = [];
    const next = () => new Promise<HubEvent[]>((resolve) => { const off = hub.subscribe((e) => { off(); batches.push(e); resolve(e); }); });
    try {
      // 300 items of busy and 3 of open ran: 606 run events (a start and an end each) in one batch.
      let batch = next();
      cache.now = fleet([job('busy', 300, true), job('open', 3, true), job('quiet', 2, false)]);
      cache.emit('changed', { jobs: new Set(['busy', 'open', 'quiet']), members: false });
      const events = await batch;
      expect(events.filter((e) => e.type === 'run' && e.job === 'open')).toHaveLength(6);
      expect(events.filter((e) => e.type === 'run' && e.job !== 'open')).toHaveLength(0);
      expect(events.filter((e) => e.type === 'activity')).toEqual([{ type: 'activity', runs: 600, jobs: 1 }]);
      // Few runs of a job not open: one by one.
      batch = next();
      cache.now = fleet([job('busy', 300, true), job('open', 3, true), job('quiet', 2, true)]);
      cache.emit('changed', { jobs: new Set(['quiet']), members: false });
      const few = await batch;
      expect(few.map((e) => [e.type, 'job' in e ? e.job : undefined])).toEqual(Array(4).fill(['run', 'quiet']));
    } finally {
      hub.close();
    }
  });
});
