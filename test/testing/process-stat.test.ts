import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clockTicks, readProcessStat } from '../../src/testing/process-stat.js';

describe('readProcessStat', () => {
  it('reads this process: running, its parent, CPU ticks used', () => {
    const s = readProcessStat(process.pid)!;
    expect(s.state).toBe('R'); // it is reading its own stat
    expect(s.ppid).toBe(process.ppid);
    expect(s.ownTicks).toBeGreaterThan(0);
    expect(clockTicks()).toBeGreaterThan(0);
  });

  it('reads a name with spaces and parentheses, and is undefined once the process is gone', async () => {
    // The name in /proc/<pid>/stat is the executable's file name, between parentheses.
    const dir = mkdtempSync(join(tmpdir(), 'process-stat-'));
    const file = join(dir, 'a (b) c');
    copyFileSync('/bin/sleep', file);
    try {
      const child = spawn(file, ['5'], { stdio: 'ignore' });
      await once(child, 'spawn');
      await expect.poll(() => readProcessStat(child.pid!)?.state).toBe('S');
      expect(readProcessStat(child.pid!)!.ppid).toBe(process.pid);
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(readProcessStat(child.pid!)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
