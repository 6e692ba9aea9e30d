import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseWorkerConfig } from '../../src/config/load-worker-config.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { digestId, formatAcl, PERMS } from '../../src/zk/zk-acl.js';

const dir = mkdtempSync(join(tmpdir(), 'zkshard-sec-'));
const file = join(dir, 'worker.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 's3cr3t:with:colons';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseWorkerConfig(text, file, {}, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('zookeeper.auth and zookeeper.acl', () => {
  it('ZKSHARD_ZK_AUTH gives the credentials; nothing shows the password (JSON, inspect, String)', () => {
    const c = parseWorkerConfig('jobs: []\n', file, {}, { ZKSHARD_ZK_AUTH: `fleet:${SECRET}` });
    const creds = c.zookeeper.credentials!;
    expect(creds.user).toBe('fleet');
    expect(creds.id).toBe(digestId('fleet', SECRET));
    for (const shown of [JSON.stringify(c), inspect(c, { depth: 10 }), String(creds), `${creds}`]) expect(shown).not.toContain('s3cr3t');
  });

  it('reads a credentials file relative to the config file, and refuses one readable by others, never quoting it', () => {
    const creds = join(dir, 'fleet.auth');
    writeFileSync(creds, `fleet:${SECRET}\n`);
    chmodSync(creds, 0o600);
    const yaml = 'zookeeper: { auth: { scheme: digest, credentialsFile: ./fleet.auth } }\n';
    expect(parseWorkerConfig(yaml, file, {}, {}).zookeeper.credentials!.id).toBe(digestId('fleet', SECRET));
    chmodSync(creds, 0o640);
    const message = problems(yaml);
    expect(message).toContain(`zookeeper.auth.credentialsFile: credentials file ${creds} is readable by its group or by everyone (mode 640); chmod 600 it`);
    expect(message).not.toContain('s3cr3t');
    expect(problems('zookeeper: { auth: { scheme: digest, credentialsFile: ./missing.auth } }\n')).toContain('cannot read credentials file');
    expect(problems('zookeeper: { auth: { scheme: sasl, credentialsFile: ./fleet.auth } }\n')).toContain('zookeeper.auth.scheme: must be one of: digest');
  });

  it('a malformed ZKSHARD_ZK_AUTH is a config problem that does not quote the value', () => {
    const message = problems('jobs: []\n', { ZKSHARD_ZK_AUTH: 'no-colon-s3cr3t' });
    expect(message).toContain('environment variable ZKSHARD_ZK_AUTH: expected user:password');
    expect(message).not.toContain('s3cr3t');
    expect(problems('jobs: []\n', { ZKSHARD_ZK_AUTH: 'fleet:' })).toContain('the password of user fleet is empty');
  });

  it('acl entries are digest identities in ZooKeeper form; world:anyone, bad hashes and letters are refused', () => {
    const ops = `digest:ops:${digestId('ops', 'x').split(':')[1]}:cdrwa`;
    const viewer = `digest:viewer:${digestId('viewer', 'y').split(':')[1]}:r`;
    const c = parseWorkerConfig(`zookeeper: { acl: ["${ops}", "${viewer}"] }\n`, file, {}, {});
    expect(c.zookeeper.acl!.map(formatAcl)).toEqual([ops, viewer]);
    expect(c.zookeeper.acl![1]!.perms).toBe(PERMS.read);
    const message = problems('zookeeper: { acl: ["world:anyone:r", "digest:ops:abc:r", "digest:ops:' + digestId('ops', 'x').split(':')[1] + ':rx", 7] }\n');
    expect(message).toContain('zookeeper.acl[0]: expected digest:<user>:<base64 sha1>:<perms>, got scheme "world"');
    expect(message).toContain('zookeeper.acl[1]: the hash of ops must be base64 of a sha1');
    expect(message).toContain('zookeeper.acl[2]: unknown permission letter "x"');
    expect(message).toContain('zookeeper.acl[3]: must be a string');
  });
});
