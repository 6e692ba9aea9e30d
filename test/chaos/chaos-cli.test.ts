import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/testing/worker-fleet.js';

const CHAOS_BIN = join(repoRoot(), 'dist', 'chaos', 'chaos-cli.js');

describe('npm run chaos: bad usage', () => {
  it.each([
    [['--bogus'], /^chaos: Unknown option '--bogus'/],
    [['--seed'], /^chaos: Option '--seed <value>' argument missing/],
    [['--workers', '1'], /^chaos: --workers must be a whole number from 2 to 20, got "1"/],
    [['--duration', 'soon'], /^chaos: --duration must look like 90s, 10m or 600 \(seconds\), got "soon"/],
  ])('%j: says what is wrong, exits 2, starts nothing', (args, message) => {
    const res = spawnSync(process.execPath, [CHAOS_BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/ensemble|at .*\.js:\d+/); // no fleet, no stack trace
  });
});
