import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStacks, wakeState } from '../../chaos/wake-check.js';

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

  it('says how much the process logged meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wake-check-'));
    try {
      const chatty = join(dir, 'chatty.log');
      const quiet = join(dir, 'quiet.log');
      writeFileSync(quiet, 'a line from before\n');
      start(`setInterval(() => require('node:fs').appendFileSync(${JSON.stringify(chatty)}, 'line\\n'), 20)`);
      const idle = start('setInterval(() => {}, 1000)');
      const [talks, silent] = await Promise.all([wakeState(children[0]!.pid!, 300, sleep, chatty), wakeState(idle.pid!, 300, sleep, quiet)]);
      expect(talks!.loggedBytes).toBeGreaterThan(0);
      expect(silent!.loggedBytes).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads where each thread of a live process waits, and says so when it is gone', async () => {
    const idle = start('setInterval(() => {}, 1000)');
    await sleep(200);
    const text = await processStacks(idle.pid!, 20_000);
    expect(text).toMatch(new RegExp(`^thread ${idle.pid} \\(node\\): state [SR], wchan `, 'm'));
    expect(text).toMatch(/gdb/); // its backtrace, or why there is none
    idle.kill('SIGKILL');
    await once(idle, 'exit');
    expect(await processStacks(idle.pid!)).toMatch(/: gone \(ENOENT\)$/);
  });

  it('is undefined once the process is gone', async () => {
    const child = start('process.exit(0)');
    await once(child, 'exit');
    expect(await wakeState(child.pid!, 10, sleep)).toBeUndefined();
  });
});
