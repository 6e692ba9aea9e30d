import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readScriptKills, readWorkerLogs } from '../../chaos/chaos-logs.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('readScriptKills()', () => {
  it('turns a worker\'s "script killed by" run ends into aborted run events, and nothing else', () => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-chaos-logs-'));
    const base = { level: 40, pid: 4242, worker: 'w3', component: 'executor', job: 'delta', item: 1, fire: 'delta@2026-12-02T18:00:10.000Z#1', attempt: 2, msg: 'run finished' };
    writeFileSync(join(dir, 'worker-w3-4242.log'), [
      JSON.stringify({ ...base, time: '2026-12-02T18:00:17.250Z', outcome: 'interrupted', error: 'script killed by SIGKILL' }),
      JSON.stringify({ ...base, time: '2026-12-02T18:00:27.000Z', outcome: 'failure', error: 'script exited with code 3' }),
      JSON.stringify({ ...base, time: '2026-12-02T18:00:28.000Z', msg: 'something else', error: 'script killed by SIGKILL' }),
      'not json',
    ].join('\n'));
    expect(readScriptKills(dir)).toEqual([{
      event: 'aborted', worker: 'w3', pid: 4242, job: 'delta', item: 1, fire: '2026-12-02T18:00:10.000Z', attempt: 2, token: '',
      at: Date.parse('2026-12-02T18:00:17.250Z'), reason: 'script killed by SIGKILL',
    }]);
  });
});

describe('readWorkerLogs()', () => {
  it("reads every item's recorded note from a worker's line per turn, and from the line per item older workers wrote", () => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-chaos-logs-'));
    const at = '2026-12-05T14:00:00.000Z';
    writeFileSync(join(dir, 'worker-w1-7.log'), [
      JSON.stringify({ level: 30, time: at, pid: 7, worker: 'w1', msg: 'recorded fires not run', count: 2, notes: [
        { job: 'a', item: 0, outcome: 'missed', count: 3, latest: '2026-12-05T13:59:59.000Z' },
        { job: 'b', item: 4, outcome: 'skipped', count: 1, latest: '2026-12-05T13:59:58.000Z' },
      ] }),
      JSON.stringify({ level: 30, time: at, pid: 7, worker: 'w1', msg: 'recorded fires not run', job: 'c', item: 2, outcome: 'missed', count: 1, latest: '2026-12-05T13:59:57.000Z' }),
    ].join('\n'));
    expect(readWorkerLogs(dir).notes).toEqual([
      { job: 'a', item: 0, outcome: 'missed', count: 3, latest: '2026-12-05T13:59:59.000Z', at: Date.parse(at) },
      { job: 'b', item: 4, outcome: 'skipped', count: 1, latest: '2026-12-05T13:59:58.000Z', at: Date.parse(at) },
      { job: 'c', item: 2, outcome: 'missed', count: 1, latest: '2026-12-05T13:59:57.000Z', at: Date.parse(at) },
    ]);
  });
});
