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
    [['--kinds', 'sigstop,meteor'], /^chaos: --kinds: unknown fault kind "meteor"; the kinds are sigkill, sigstop, .*partition-zk-minority/],
    [['--kinds', ''], /^chaos: --kinds: unknown fault kind ""/],
    [['--kinds', 'partition-worker', '--no-partitions'], /^chaos: --kinds partition-worker needs partitions, but --no-partitions was given/],
  ])('%j: says what is wrong, exits 2, starts nothing', (args, message) => {
    const res = spawnSync(process.execPath, [CHAOS_BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/ensemble|at .*\.js:\d+/); // no fleet, no stack trace
  });
});
