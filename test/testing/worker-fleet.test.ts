import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerFleet, type WorkerExit } from '../../src/testing/worker-fleet.js';

describe('WorkerFleet', () => {
  const dirs: string[] = [];
  const fleets: WorkerFleet[] = [];
  afterEach(() => {
    for (const f of fleets.splice(0)) f.killAll();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function fleet(config: string): { f: WorkerFleet; seen: WorkerExit[]; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'worker-fleet-'));
    dirs.push(dir);
    const file = join(dir, 'worker.yaml');
    writeFileSync(file, config);
    const seen: WorkerExit[] = [];
    const f = new WorkerFleet(dir, file, {}, undefined, (e) => seen.push(e));
    fleets.push(f);
    return { f, seen, dir };
  }

  it('tells a worker that ended on its own from one it was asked to end, and keeps its log', async () => {
    // Nothing listens on port 9 of 127.0.0.1: this worker keeps trying to connect until told to end.
    const waiting = fleet('zookeeper:\n  connect: 127.0.0.1:9\n  namespace: fleet-test\njobs: []\n');
    const pid = waiting.f.start('w1');
    expect(waiting.f.logFile('w1')).toBe(join(waiting.dir, `worker-w1-${pid}.log`));
    waiting.f.signal('w1', 'SIGKILL');
    await waiting.f.waitExit('w1', 10_000);
    expect(waiting.seen).toEqual([{ id: 'w1', pid, at: expect.any(Number), code: null, signal: 'SIGKILL', asked: true }]);

    // A config that does not parse: the worker exits by itself.
    const broken = fleet('zookeeper: [\n');
    const brokenPid = broken.f.start('w2');
    await broken.f.waitExit('w2', 20_000);
    expect(broken.f.exits).toEqual([{ id: 'w2', pid: brokenPid, at: expect.any(Number), code: 2, signal: null, asked: false }]);
    expect(broken.seen).toEqual(broken.f.exits);
  });
});
