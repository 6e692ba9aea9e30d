import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readScriptKills } from '../../chaos/chaos-logs.js';

describe('readScriptKills()', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

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
