import { describe, expect, it } from 'vitest';
import { createJob, createMissingItems, jobNodes, removeItem } from '../../src/api/job-nodes.js';
import { JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';
import { decodeJob } from '../../src/model/job-record.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { ZkTransaction } from '../../src/zk/zk-transaction.js';

const paths = new ZkPaths('fleet');

describe('job nodes', () => {
  it('jobNodes(): items, every item, triggers; parents before children', () => {
    expect(jobNodes(paths, 'orders', 3)).toEqual([
      '/fleet/jobs/orders/items',
      '/fleet/jobs/orders/items/0',
      '/fleet/jobs/orders/items/1',
      '/fleet/jobs/orders/items/2',
      '/fleet/jobs/orders/triggers',
    ]);
  });

  it('createJob() creates the definition first, with its data, then the job nodes', () => {
    const def: JobDefinition = { ...JOB_DEFAULTS, name: 'orders', cron: '* * * * * *', shards: 2, itemParameters: {}, handler: './orders.js', retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 1000 } };
    const tx = new ZkTransaction();
    createJob(tx, paths, def);
    expect(tx.ops.map((op) => [op.type, op.path])).toEqual([
      ['create', '/fleet/jobs/orders'],
      ...jobNodes(paths, 'orders', 2).map((p) => ['create', p]),
    ]);
    const first = tx.ops[0]!;
    expect(first.type === 'create' && decodeJob(first.data)).toEqual(def);
  });

  it('createMissingItems() creates only the items below `shards` that do not exist', () => {
    const tx = new ZkTransaction();
    createMissingItems(tx, paths, 'orders', 4, new Set(['0', '2', '7']));
    expect(tx.ops.map((op) => op.path)).toEqual(['/fleet/jobs/orders/items/1', '/fleet/jobs/orders/items/3']);
  });

  it('removeItem() removes the children before the item', () => {
    const tx = new ZkTransaction();
    removeItem(tx, paths, 'orders', 5, ['history', 'stages']);
    expect(tx.ops.map((op) => [op.type, op.path])).toEqual([
      ['remove', paths.history('orders', 5)],
      ['remove', paths.stages('orders', 5)],
      ['remove', paths.item('orders', 5)],
    ]);
  });
});
