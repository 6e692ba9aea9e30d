import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { policyAcl, sameAcl } from '../../src/zk/zk-acl.js';
import type { Worker } from '../../src/worker/worker.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { uniqueNamespace } from '../support/zk-namespace.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { json, zkctl, ZKCTL_BIN, type ZkctlResult } from '../api/fleet-fixture.js';
import { authText, client, EXTRA_ACL, EXTRA_ACL_TEXT, FLEET, fleetWorker, OPERATOR, removeTree, VIEWER, walk } from '../security/security-fixture.js';
import type { AclFinding } from '../../src/api/acl-audit.js';

const SECRETS = [FLEET, OPERATOR, VIEWER].map((c) => authText(c).split(':')[1]!);
function noSecret(r: ZkctlResult): void {
  for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
}

describe('zkctl on a secured fleet: credentials, roles, acl digest|audit', () => {
  const namespace = uniqueNamespace('zkctl-acl');
  const paths = new ZkPaths(namespace);
  const dir = mkdtempSync(join(tmpdir(), 'zkshard-acl-'));
  const workers: Worker[] = [];
  let fleet: ZkClient;
  const as = (c: typeof FLEET | null) => ({ namespace, timeoutMs: 60_000, env: c ? { ZKSHARD_ZK_AUTH: authText(c) } : { ZKSHARD_ZK_AUTH: '' } });

  beforeAll(async () => {
    const job = testJob('nightly', { cron: '0 0 0 1 1 *', shards: 2 });
    const w = fleetWorker(zkConnect(), namespace, 'w1', [job]);
    workers.push(w);
    await w.start();
    fleet = await client(zkConnect(), FLEET);
    await waitFor(() => w.owned().nightly?.length === 2, { message: 'items owned' });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    await removeTree(fleet, paths.root);
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without credentials: exit 4 with one line naming the user and what was refused; nothing changed', async () => {
    const before = await walk(fleet, paths.root);
    const [jobs, disable, drain] = await Promise.all([zkctl(['jobs'], as(null)), zkctl(['disable', 'nightly'], as(null)), zkctl(['drain', 'w1', '--no-wait'], as(null))]);
    for (const r of [jobs, disable, drain]) {
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/^error: not authorized: anonymous may not \w+.* \(\/t-zkctl-acl-[0-9a-f]+[^)]*\)\n$/);
    }
    expect(await walk(fleet, paths.root)).toEqual(before);
  });

  it('a viewer reads (status, workers, jobs, job, tree, doctor) and may write nothing (exit 4)', { timeout: 240_000 }, async () => {
    const reads = [
      ...(await Promise.all([['status'], ['workers'], ['jobs']].map((a) => zkctl(a, as(VIEWER))))),
      ...(await Promise.all([['job', 'nightly'], ['tree'], ['doctor']].map((a) => zkctl(a, as(VIEWER))))),
    ];
    for (const r of reads) {
      expect(r.code, r.stderr + r.stdout).toBe(0);
      noSecret(r);
    }
    expect(reads[5]!.stdout).toMatch(/^PASS\s+acl\s+\/t-zkctl-acl-\S+ is secured: fleet \(cdrwa\), ops \(cdrwa\), viewer \(r\)/m);
    const before = await walk(fleet, paths.root);
    const controlBefore = await fleet.getDataIfExists(paths.control('nightly'));
    const writes = [
      ...(await Promise.all([['disable', 'nightly'], ['reshard', 'nightly', '--shards', '3'], ['trigger', 'nightly', '--no-wait']].map((a) => zkctl(a, as(VIEWER))))),
      ...(await Promise.all([['rebalance'], ['remove', 'nightly'], ['move', 'nightly', '0', '--to', 'w1']].map((a) => zkctl(a, as(VIEWER))))),
    ];
    for (const r of writes) {
      expect(r.code, r.stderr + r.stdout).toBe(4);
      expect(r.stderr).toMatch(/^error: not authorized: viewer may not \w+/);
    }
    expect(await walk(fleet, paths.root)).toEqual(before);
    expect((await fleet.getDataIfExists(paths.control('nightly')))?.stat.version).toBe(controlBefore?.stat.version);
  });

  it("an operator's writes work and the nodes it creates carry the fleet's policy", async () => {
    const disable = await zkctl(['disable', 'nightly', '--item', '1'], as(OPERATOR));
    expect(disable.code, disable.stderr).toBe(0);
    const rebalance = await zkctl(['rebalance'], as(OPERATOR));
    expect(rebalance.code, rebalance.stderr).toBe(0);
    const policy = policyAcl(FLEET, EXTRA_ACL);
    expect(sameAcl((await fleet.getAcl(paths.control('nightly'))).acl, policy)).toBe(true);
    expect(sameAcl((await fleet.getAcl(paths.rebalance)).acl, policy)).toBe(true);
    expect((await zkctl(['enable', 'nightly', '--item', '1'], as(OPERATOR))).code).toBe(0);
  });

  it('acl digest reads the password from stdin; acl audit finds nothing on the secured fleet, and lists an open node first', async () => {
    const child = spawn(process.execPath, [ZKCTL_BIN, 'acl', 'digest', 'ops'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stdin.end(`${authText(OPERATOR).split(':')[1]}\n`);
    const code = await new Promise((res) => child.on('close', res));
    expect(code).toBe(0);
    expect(`${out.trim()}:cdrwa`).toBe(EXTRA_ACL_TEXT[0]);

    const clean = await zkctl(['acl', 'audit', '--json'], as(FLEET));
    expect(clean.code, clean.stderr).toBe(0);
    expect(json<{ open: number; findings: AclFinding[]; nodes: number }>(clean)).toMatchObject({ open: 0, findings: [] });
    noSecret(clean);

    await fleet.setAcl(paths.item('nightly', 1), [{ scheme: 'world', id: 'anyone', perms: 31 }]);
    await fleet.setAcl(paths.items('nightly'), policyAcl(FLEET));
    const dirty = await zkctl(['acl', 'audit'], as(FLEET));
    expect(dirty.code).toBe(1);
    const lines = dirty.stdout.trim().split('\n');
    expect(lines[0]).toBe(`OPEN  ${paths.item('nightly', 1)}  world:anyone:cdrwa`);
    expect(lines[1]).toMatch(new RegExp(`^DIFF  ${paths.items('nightly')}  digest:fleet:`));
    expect(lines[2]).toMatch(/^2 of \d+ nodes differ from the policy \(1 open\)/);

    const configFile = join(dir, 'worker.yaml');
    const credsFile = join(dir, 'fleet.auth');
    writeFileSync(credsFile, authText(FLEET), { mode: 0o600 });
    writeFileSync(configFile, stringify({ zookeeper: { auth: { scheme: 'digest', credentialsFile: credsFile }, acl: EXTRA_ACL_TEXT } }));
    const apply = await zkctl(['acl', 'apply', '--config', configFile], as(null));
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/: 2 of \d+ nodes set to the policy/);
    expect((await zkctl(['acl', 'audit'], as(VIEWER))).code).toBe(0);
  });
});
