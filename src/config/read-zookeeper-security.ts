import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigReader, RawMapping } from './config-reader.js';
import { parseAclEntry, ZkCredentials, type ZkAcl } from '../zk/zk-acl.js';
import type { ZkTlsOptions } from '../zk/zk-tls.js';

/** The environment variable holding `user:password` (wins over `zookeeper.auth`). */
export const AUTH_ENV = 'ZKSHARD_ZK_AUTH';

const AUTH_KEYS = ['scheme', 'credentialsFile'];
const TLS_KEYS = ['caFile', 'certFile', 'keyFile'];

/** `zookeeper.auth` and `zookeeper.acl`, read. */
export interface ZooKeeperSecurity {
  /** The fleet identity; undefined: the fleet runs without credentials (open namespace). */
  credentials: ZkCredentials | undefined;
  /** The other identities every node grants (`digest:<user>:<hash>:<perms>`). */
  acl: ZkAcl[];
  /** `zookeeper.tls`: connect to the servers' `secureClientPort`; undefined: plain TCP. */
  tls: ZkTlsOptions | undefined;
}

/**
 * Reads the security keys of the `zookeeper` mapping: `auth: { scheme: digest, credentialsFile }`
 * (a file holding `user:password`, refused when group- or world-readable; relative to `baseDir`)
 * and `acl: [ 'digest:<user>:<hash>:<perms>', ... ]`; then `ZKSHARD_ZK_AUTH` from `env`, which
 * wins. Problems go to `r`; no problem ever quotes a password or the credentials file's content.
 */
export function readZooKeeperSecurity(r: ConfigReader, zk: RawMapping, baseDir: string, env: NodeJS.ProcessEnv): ZooKeeperSecurity {
  let credentials: ZkCredentials | undefined;
  if (zk.auth !== undefined && zk.auth !== null) {
    const auth = r.mapping(zk.auth, 'zookeeper.auth', AUTH_KEYS);
    if (auth) {
      r.choice(auth, 'zookeeper.auth', 'scheme', ['digest'], 'digest');
      const file = r.string(auth, 'zookeeper.auth', 'credentialsFile', undefined, { nonEmpty: true });
      if (file !== undefined) credentials = readCredentialsFile(r, resolve(baseDir, file));
    }
  }
  const fromEnv = env[AUTH_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    try {
      credentials = ZkCredentials.parse(fromEnv, `environment variable ${AUTH_ENV}`);
    } catch (err) {
      r.report('zookeeper.auth', (err as Error).message);
    }
  }
  const acl: ZkAcl[] = [];
  if (zk.acl !== undefined && zk.acl !== null) {
    if (!Array.isArray(zk.acl)) r.report('zookeeper.acl', 'must be a list of digest:<user>:<base64 sha1>:<perms> entries', zk.acl);
    else {
      zk.acl.forEach((entry: unknown, i: number) => {
        if (typeof entry !== 'string') return r.report(`zookeeper.acl[${i}]`, 'must be a string digest:<user>:<base64 sha1>:<perms>', entry);
        try {
          acl.push(parseAclEntry(entry));
        } catch (err) {
          r.report(`zookeeper.acl[${i}]`, (err as Error).message, entry);
        }
      });
    }
  }
  return { credentials, acl, tls: readTls(r, zk.tls, baseDir) };
}

/** `zookeeper.tls: { caFile, certFile?, keyFile? }` (PEM files, relative to the config file). */
function readTls(r: ConfigReader, raw: unknown, baseDir: string): ZkTlsOptions | undefined {
  if (raw === undefined || raw === null) return undefined;
  const t = r.mapping(raw, 'zookeeper.tls', TLS_KEYS);
  if (!t) return undefined;
  const files: Record<string, Buffer> = {};
  for (const key of TLS_KEYS) {
    const file = r.string(t, 'zookeeper.tls', key, key === 'caFile' ? undefined : '', { nonEmpty: key === 'caFile' });
    if (!file) continue;
    try {
      files[key] = readFileSync(resolve(baseDir, file));
    } catch (err) {
      r.report(`zookeeper.tls.${key}`, `cannot read ${resolve(baseDir, file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if ((t.certFile === undefined) !== (t.keyFile === undefined)) r.report('zookeeper.tls', 'certFile and keyFile go together (a client certificate and its key)');
  if (!files.caFile) return undefined;
  return { ca: files.caFile, ...(files.certFile ? { cert: files.certFile } : {}), ...(files.keyFile ? { key: files.keyFile } : {}) };
}

/** The credentials in `file`; a problem (never quoting the content) when it is unreadable, open to others or malformed. */
function readCredentialsFile(r: ConfigReader, file: string): ZkCredentials | undefined {
  const key = 'zookeeper.auth.credentialsFile';
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    r.report(key, `cannot read credentials file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return undefined;
  }
  if ((mode & 0o044) !== 0) {
    r.report(key, `credentials file ${file} is readable by its group or by everyone (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    return undefined;
  }
  try {
    return ZkCredentials.parse(text.trim(), `credentials file ${file}`);
  } catch (err) {
    r.report(key, (err as Error).message);
    return undefined;
  }
}
