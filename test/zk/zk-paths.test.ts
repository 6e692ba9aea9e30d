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

  it('markerItem() finds the item of a running marker and nothing else', () => {
    expect(paths.markerItem('orders', paths.running('orders', 12))).toBe(12);
    expect(paths.markerItem('orders', paths.item('orders', 12))).toBeUndefined();
    expect(paths.markerItem('orders', paths.history('orders', 12))).toBeUndefined();
    expect(paths.markerItem('other', paths.running('orders', 12))).toBeUndefined();
    expect(paths.markerItem('orders', '/fleet/jobs/orders/items/x/running')).toBeUndefined();
    expect(paths.markerItem('orders', '/fleet/jobs/orders/items/1/2/running')).toBeUndefined();
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
