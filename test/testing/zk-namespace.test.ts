import { describe, expect, it } from 'vitest';
import { uniqueNamespace } from '../support/zk-namespace.js';

describe('uniqueNamespace', () => {
  it('makes t-<prefix>-<8 hex> names that differ on every call', () => {
    const a = uniqueNamespace('failover');
    expect(a).toMatch(/^t-failover-[0-9a-f]{8}$/);
    expect(uniqueNamespace('failover')).not.toBe(a);
  });

  it('turns any prefix into a valid znode name', () => {
    expect(uniqueNamespace('Lease Loss/frozen ZK!')).toMatch(/^t-lease-loss-frozen-zk-[0-9a-f]{8}$/);
    expect(uniqueNamespace('///')).toMatch(/^t-x-[0-9a-f]{8}$/);
  });
});
