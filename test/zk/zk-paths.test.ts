import { describe, expect, it } from 'vitest';
import { childPath, TRIGGER_PREFIX, ZkPaths } from '../../src/zk/zk-paths.js';

describe('ZkPaths', () => {
  const paths = new ZkPaths('fleet');

  it('refuses a namespace with a slash, naming the bad value', () => {
    expect(() => new ZkPaths('a/b')).toThrow(/namespace must match .*"a\/b"/);
  });

  it('builds the trigger request paths, the sequential create prefix included', () => {
    expect(paths.trigger('orders', TRIGGER_PREFIX)).toBe('/fleet/jobs/orders/triggers/t-');
    expect(paths.trigger('orders', 't-0000000003')).toBe('/fleet/jobs/orders/triggers/t-0000000003');
  });

  it('isInside() holds for the root and what is below it, not for a sibling sharing its prefix', () => {
    expect(paths.isInside('/fleet')).toBe(true);
    expect(paths.isInside(paths.item('orders', 1))).toBe(true);
    expect(paths.isInside('/fleet2/jobs')).toBe(false);
    expect(paths.isInside('/')).toBe(false);
  });

  it('childPath() joins below the root and below any node', () => {
    expect(childPath('/', 'fleet')).toBe('/fleet');
    expect(childPath(paths.workers, 'm-1')).toBe(paths.member('m-1'));
  });
});
