import { afterEach, describe, expect, it } from 'vitest';
import { v8PoolEnv } from '../../bench/lib/bench-fleet.js';

describe('v8PoolEnv', () => {
  const saved = process.env.NODE_OPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });

  it('leaves the environment alone for Node’s default', () => {
    expect(v8PoolEnv(undefined)).toEqual({});
  });

  it('adds --v8-pool-size to NODE_OPTIONS, keeping what is there', () => {
    delete process.env.NODE_OPTIONS;
    expect(v8PoolEnv(1)).toEqual({ NODE_OPTIONS: '--v8-pool-size=1' });
    process.env.NODE_OPTIONS = '--require /tmp/probe.cjs';
    expect(v8PoolEnv(2)).toEqual({ NODE_OPTIONS: '--require /tmp/probe.cjs --v8-pool-size=2' });
  });

  it('refuses a pool that is not a whole number of threads', () => {
    expect(() => v8PoolEnv(0)).toThrow(/whole number ≥ 1, got 0/);
    expect(() => v8PoolEnv(1.5)).toThrow(/got 1.5/);
  });
});
