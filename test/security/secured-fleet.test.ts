import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { NotAuthorizedError } from '../../src/zk/zk-errors.js';
import { isOpenAcl, sameAcl, policyAcl, ZkCredentials } from '../../src/zk/zk-acl.js';
import type { Worker } from '../../src/worker/worker.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { uniqueNamespace } from '../support/zk-namespace.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { Writable } from 'node:stream';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../src/logging/create-logger.js';
import { ZKSHARD_BIN } from '../support/worker-process.js';
import { authText, client, EXTRA_ACL, FLEET, fleetWorker, removeTree, walk } from './security-fixture.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';

describe('a secured fleet (credentials on the workers, shared ZooKeeper without enforce.auth)', () => {
  const namespace = uniqueNamespace('secured');
  const paths = new ZkPaths(namespace);
  const workers: Worker[] = [];
  const runs: string[] = [];
  let fleet: ZkClient;

  beforeAll(async () => {
    const job = testJob('nightly', { cron: '0 0 0 1 1 *', shards: 4 });
    for (const id of ['w1', 'w2']) {
      const w = fleetWorker(zkConnect(), namespace, id, [job], FLEET, { onRun: { started: (r: { job: string; item: number }) => void runs.push(`${r.job}#${r.item}`) } as never });
      workers.push(w);
      await w.start();
    }
    fleet = await client(zkConnect(), FLEET);
    await waitFor(async () => (await readAssignmentOf(fleet, paths, 'nightly')) !== undefined, { message: 'assignment written' });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    await removeTree(fleet, paths.root);
    await fleet.close();
  });

  it('every node carries the policy ACL (fleet with all rights + zookeeper.acl), none is open', async () => {
    const policy = policyAcl(FLEET, EXTRA_ACL);
    const nodes = await walk(fleet, paths.root);
    expect(nodes).toContain(paths.item('nightly', 3));
    expect(nodes.some((n) => n.startsWith(`${paths.workers}/`))).toBe(true);
    for (const node of nodes) {
      const { acl } = await fleet.getAcl(node);
      expect(isOpenAcl(acl), node).toBe(false);
      expect(sameAcl(acl, policy), `${node}: ${JSON.stringify(acl)}`).toBe(true);
    }
  });

  for (const [who, credentials] of [
    ['no credentials', undefined],
    ['a wrong password', new ZkCredentials('fleet', 'not-the-password')],
  ] as const) {
    it(`a client with ${who} cannot list, read, rewrite, drain, trigger or create; nothing runs`, async () => {
      const intruder = await client(zkConnect(), credentials);
      try {
        const user = credentials ? 'fleet' : 'anonymous';
        const def = await fleet.getData(paths.job('nightly'));
        const probes: Array<[string, () => Promise<unknown>]> = [
          ['list the jobs', () => intruder.getChildren(paths.jobs)],
          ['list the workers', () => intruder.getChildren(paths.workers)],
          ['read a definition', () => intruder.getData(paths.job('nightly'))],
          ['rewrite a definition', () => intruder.setData(paths.job('nightly'), '{"cron":"* * * * * *"}')],
          ['drain a worker', () => intruder.create(`${paths.drains}/w1`, '{}')],
          ['trigger a job', () => intruder.create(`${paths.triggers('nightly')}/t-`, '{"items":null}', 'persistentSequential')],
          ['create a node in the namespace', () => intruder.create(`${paths.root}/evil`)],
          ['delete an item', () => intruder.remove(paths.item('nightly', 0))],
          ['read the ACL', () => intruder.getAcl(paths.job('nightly'))],
          ['secure it for itself', () => intruder.setAcl(paths.root, [{ scheme: 'world', id: 'anyone', perms: 31 }])],
        ];
        for (const [what, probe] of probes) {
          const err = await probe().then(() => undefined, (e: unknown) => e);
          expect(err, what).toBeInstanceOf(NotAuthorizedError);
          expect((err as NotAuthorizedError).message, what).toMatch(new RegExp(`^not authorized: ${user} may not \\w`));
          expect((err as NotAuthorizedError).message).not.toContain('not-the-password');
        }
        const after = await fleet.getData(paths.job('nightly'));
        expect(after.stat.version).toBe(def.stat.version);
        expect(await fleet.getChildren(paths.root)).not.toContain('evil');
        expect(await fleet.getChildren(paths.triggers('nightly'))).toEqual([]);
        expect(runs).toEqual([]);
      } finally {
        await intruder.close();
      }
    });
  }

  it('the password appears in no log line (debug level), error or metric of a worker', async () => {
    let logs = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    const w = fleetWorker(zkConnect(), namespace, 'w3', [testJob('nightly', { cron: '0 0 0 1 1 *', shards: 4 })], FLEET, {
      logger: createLogger({ level: 'trace', destination: sink }),
      http: { port: 0 },
    });
    workers.push(w);
    await w.start();
    const refused = fleetWorker(zkConnect(), namespace, 'w4', [], new ZkCredentials('fleet', authText(FLEET).split(':')[1]! + 'x'), { logger: createLogger({ level: 'trace', destination: sink }) });
    const err = await refused.start().catch((e: unknown) => e);
    const metrics = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
    const password = authText(FLEET).split(':')[1]!;
    expect(logs).toContain('"user":"fleet"'); // the refusal is logged, naming the user
    for (const text of [logs, metrics, String(err), JSON.stringify(err), (err as Error).stack ?? '']) expect(text).not.toContain(password);
  });

  it('`zkshard worker` without credentials exits 4 at start with one line naming the user and what was refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkshard-sec-'));
    try {
      const config = join(dir, 'worker.yaml');
      writeFileSync(config, stringify({ zookeeper: { connect: zkConnect(), namespace }, jobs: [{ ...testJob('nightly', { cron: '0 0 0 1 1 *', shards: 4 }) }] }));
      const child = spawn(process.execPath, [ZKSHARD_BIN, 'worker', '--config', config, '--id', 'nocreds'], { env: { ...process.env, ZKSHARD_ZK_AUTH: '', ZKSHARD_ZK: '', ZKSHARD_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise((res) => child.on('exit', res));
      expect(code).toBe(4);
      expect(stderr).toMatch(new RegExp(`^error: not authorized: anonymous may not \\w+ \\(/${namespace}/[^)]*\\)\\n$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker without credentials (or a wrong password) is refused at start: NotAuthorizedError, nothing created', async () => {
    const before = await fleet.getChildren(paths.workers);
    for (const credentials of [null, new ZkCredentials('fleet', 'wrong')]) {
      const w = fleetWorker(zkConnect(), namespace, 'intruder', [testJob('nightly', { cron: '0 0 0 1 1 *', shards: 4 })], credentials);
      const err = await w.start().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(NotAuthorizedError);
      expect((err as Error).message).toMatch(/^not authorized: (anonymous|fleet) may not /);
      expect(w.state).toBe('stopped');
    }
    expect(await fleet.getChildren(paths.workers)).toEqual(before);
  });
});
