import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { wakeState } from '../../chaos/wake-check.js';

describe('wakeState', () => {
  const children: ChildProcess[] = [];
  const start = (script: string): ChildProcess => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    children.push(child);
    return child;
  };

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  });

  it('tells a stopped process, an idle one and a spinning one apart', async () => {
    const idle = start('setInterval(() => {}, 1000)');
    const spinning = start('for (;;) {}');
    await sleep(200);
    idle.kill('SIGSTOP');
    const stopped = await wakeState(idle.pid!, 300, sleep);
    expect(stopped).toMatchObject({ afterMs: 300, state: 'T' });
    idle.kill('SIGCONT');
    const thawed = await wakeState(idle.pid!, 300, sleep);
    expect(thawed!.state).toBe('S');
    expect(thawed!.cpuMs).toBeLessThan(150);
    const spin = await wakeState(spinning.pid!, 500, sleep);
    expect(spin!.cpuMs).toBeGreaterThan(50); // of 500 ms: spinning, even on a busy host
  });

  it('is undefined once the process is gone', async () => {
    const child = start('process.exit(0)');
    await once(child, 'exit');
    expect(await wakeState(child.pid!, 10, sleep)).toBeUndefined();
  });
});
