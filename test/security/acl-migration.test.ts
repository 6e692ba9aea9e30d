import { afterAll, describe, expect, it } from 'vitest';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { NotAuthorizedError } from '../../src/zk/zk-errors.js';
import { isOpenAcl, policyAcl, sameAcl } from '../../src/zk/zk-acl.js';
import { applyAcl } from '../../src/api/acl-apply.js';
import { auditAcl } from '../../src/api/acl-audit.js';
import { RequestError } from '../../src/errors/request-error.js';
import type { Worker } from '../../src/worker/worker.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { uniqueNamespace } from '../support/zk-namespace.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/create-logger.js';
import { client, EXTRA_ACL, FLEET, fleetWorker, removeTree } from './security-fixture.js';
import { LEDGER_PARTS } from '../../src/model/member-ledger.js';

/** A run as the workers reported it (in-process, one clock). */
interface Run { item: number; fire: number; worker: string; start: number; end?: number }

describe('migrating a running open fleet to ACLs (the ElasticJob trap must not happen)', () => {
  const namespace = uniqueNamespace('acl-migrate');
  const paths = new ZkPaths(namespace);
  const live: Worker[] = [];
  const runs: Run[] = [];
  let admin: ZkClient | undefined;
  const job = testJob('tick', { cron: '* * * * * *', shards: 4, jobParameter: 'sleepMs=150' });

  let logs = '';
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) }) });
  const worker = (id: string, secured: boolean): Worker => {
    const open = new Map<string, Run>();
    const w = fleetWorker(zkConnect(), namespace, id, [job], secured ? FLEET : null, {
      logger,
      onRun: {
        started: (req) => {
          const run: Run = { item: req.item, fire: req.fireTime.getTime(), worker: id, start: Date.now() };
          open.set(`${req.item}@${run.fire}`, run);
          runs.push(run);
        },
        finished: (report) => {
          const run = open.get(`${report.item}@${report.fireTime.getTime()}`);
          if (run) run.end = Date.now();
        },
      },
    });
    live.push(w);
    return w;
  };
  const ownedBy = (ws: Worker[]) => ws.reduce((n, w) => n + (w.owned().tick?.length ?? 0), 0);

  afterAll(async () => {
    await Promise.all(live.map((w) => w.shutdown()));
    admin ??= await client(zkConnect(), FLEET);
    await removeTree(admin, paths.root);
    await admin.close();
  });

  it('workers get credentials while the namespace is open, then acl apply: 0 missed fires, 0 overlaps, 0 open nodes; a worker without credentials is refused', async () => {
    // An open fleet of two workers, as today.
    const [a, b] = [worker('a', false), worker('b', false)];
    await a.start();
    await b.start();
    await waitFor(() => ownedBy([a, b]) === 4, { message: 'open fleet owns every item' });
    // It works as before, but says at start that anyone can drive it.
    expect(logs).toMatch(/"worker":"a".*no ZooKeeper credentials \(ZKSHARD_ZK_AUTH or zookeeper.auth\): anyone who reaches ZooKeeper can read and drive this fleet/);

    // Step 1 of the migration: a rolling restart gives every worker the credentials.
    const a2 = worker('a2', true);
    await a2.start();
    await a.shutdown();
    admin = await client(zkConnect(), FLEET);
    const policy = policyAcl(FLEET, EXTRA_ACL);
    // The apply refuses while a worker without credentials is live (it would be locked out), and changes nothing.
    const refused = await applyAcl(admin, paths, policy).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RequestError);
    expect((refused as Error).message).toMatch(/1 live worker runs without an identity of the policy: b \(m-[0-9a-f]+-\d+, anonymous\)/);
    expect(isOpenAcl((await admin.getAcl(paths.root)).acl)).toBe(true);
    const b2 = worker('b2', true);
    await b2.start();
    await b.shutdown();
    await waitFor(() => ownedBy([a2, b2]) === 4, { message: 'the credentialed workers own every item' });
    const rolled = Date.now();
    await waitFor(() => [0, 1, 2, 3].every((item) => runs.some((r) => r.item === item && r.fire > rolled && r.end !== undefined)), { timeoutMs: 10_000, message: 'every item ran after the rolling restart' });
    // Still open: the credentialed workers create open nodes, so nobody is locked out meanwhile.
    expect((await auditAcl(admin, paths.root)).findings.length).toBeGreaterThan(0);
    expect(logs).toMatch(/"worker":"a2".*namespace is open to anyone: creating open nodes/);

    // Step 2: apply the policy while they fire every second.
    const applyStart = Date.now();
    const result = await applyAcl(admin, paths, policy);
    const applyEnd = Date.now();
    expect(result.changed.length).toBeGreaterThan(0);
    await waitFor(() => runs.some((r) => r.fire >= applyEnd + 3000 && r.end !== undefined), { timeoutMs: 15_000, message: 'fires after the apply' });

    // 0 missed: every item ran every fire from the second the apply began to 2 s after it ended.
    const from = Math.floor(applyStart / 1000) * 1000;
    const to = Math.floor(applyEnd / 1000) * 1000 + 2000;
    const missed: string[] = [];
    for (let fire = from; fire <= to; fire += 1000) {
      for (let item = 0; item < 4; item++) if (!runs.some((r) => r.item === item && r.fire === fire)) missed.push(`${item}@${new Date(fire).toISOString()}`);
    }
    expect(missed).toEqual([]);
    // 0 overlaps: no two runs of an item at the same time (over the whole test).
    const overlaps: string[] = [];
    for (let item = 0; item < 4; item++) {
      const mine = runs.filter((r) => r.item === item).sort((x, y) => x.start - y.start);
      for (let i = 1; i < mine.length; i++) if (mine[i - 1]!.end === undefined || mine[i]!.start < mine[i - 1]!.end!) overlaps.push(`${item}: ${JSON.stringify(mine[i - 1])} / ${JSON.stringify(mine[i])}`);
    }
    expect(overlaps).toEqual([]);

    // The workers create their nodes with the policy since the apply: a worker that joins now makes
    // its member node and its ledger (every part of it) under the policy.
    const before = new Set(await admin.getChildren(paths.ledgers));
    await worker('c', true).start();
    const made = await waitFor(async () => {
      const mine = (await admin!.getChildren(paths.ledgers)).find((m) => !before.has(m));
      return mine !== undefined && (await admin!.getChildren(paths.ledger(mine))).length === LEDGER_PARTS ? mine : undefined;
    }, { intervalMs: 20, timeoutMs: 10_000, message: "the new worker's ledger made after the apply" });
    const nodes = [paths.member(made), paths.ledger(made), ...Array.from({ length: LEDGER_PARTS }, (_, k) => paths.ledgerPart(made, k))];
    for (const path of nodes) expect(sameAcl((await admin.getAcl(path)).acl, policy), path).toBe(true);
    // 0 open nodes, nothing off the policy, also among the nodes created since.
    const audit = await auditAcl(admin, paths.root, policy);
    expect(audit.findings).toEqual([]);
    const anonymous = await client(zkConnect());
    try {
      expect(await anonymous.getChildren(paths.jobs).catch((e: unknown) => e)).toBeInstanceOf(NotAuthorizedError);
    } finally {
      await anonymous.close();
    }

    // A worker still without credentials: a clear error at start, it never joins, nothing wedges.
    const late = worker('late', false);
    const err = await late.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAuthorizedError);
    expect((err as Error).message).toMatch(/^not authorized: anonymous may not (read|list|create|write)/);
    const after = Date.now();
    await waitFor(() => [0, 1, 2, 3].every((item) => runs.some((r) => r.item === item && r.fire > after && r.end !== undefined)), { timeoutMs: 10_000, message: 'every item still runs' });
  });
});
