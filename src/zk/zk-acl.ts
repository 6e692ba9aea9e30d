/*
 * ZooKeeper access control, as zkshard uses it: digest identities (`digest:<user>:<base64 sha1>`),
 * ACL entries in ZooKeeper's own text form (`digest:<user>:<hash>:<perms>`, perms from `cdrwa`),
 * and the credentials a client authenticates with. The password lives in a private field that
 * neither JSON nor `util.inspect` shows, so a credentials object can never leak into a log.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import zookeeper from 'node-zookeeper-client';

/** ZooKeeper's permission bits. */
export const PERMS = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;

/** The letters of ZooKeeper's CLI (`cdrwa`) and their bits, in ZooKeeper's display order. */
const LETTERS: ReadonlyArray<[string, number]> = [
  ['c', PERMS.create],
  ['d', PERMS.delete],
  ['r', PERMS.read],
  ['w', PERMS.write],
  ['a', PERMS.admin],
];

/** One ACL entry: an identity and its rights. */
export interface ZkAcl {
  /** `digest`, `world`, `ip`, ... */
  scheme: string;
  /** For `digest`: `<user>:<base64 sha1(user:password)>`; for `world`: `anyone`. */
  id: string;
  /** Bit set of {@link PERMS}. */
  perms: number;
}

/** `world:anyone` with every right: what ZooKeeper clients create by default. */
export const OPEN_ACL: readonly ZkAcl[] = Object.freeze([{ scheme: 'world', id: 'anyone', perms: PERMS.all }]);

/** `user:password` as ZooKeeper's digest provider hashes it: `<user>:<base64 sha1(user:password)>`. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64')}`;
}

/** `cdrwa` → bits. @throws RangeError for an empty string or an unknown letter. */
export function parsePerms(text: string): number {
  if (text === '') throw new RangeError('no permissions (use letters of cdrwa)');
  let bits = 0;
  for (const ch of text) {
    const entry = LETTERS.find(([l]) => l === ch);
    if (!entry) throw new RangeError(`unknown permission letter "${ch}" (use letters of cdrwa)`);
    bits |= entry[1];
  }
  return bits;
}

/** Bits → `cdrwa` letters. */
export function formatPerms(bits: number): string {
  return LETTERS.filter(([, b]) => (bits & b) !== 0).map(([l]) => l).join('');
}

/** An entry as ZooKeeper prints it: `digest:alice:Xk...=:cdrwa`. */
export function formatAcl(acl: ZkAcl): string {
  return `${acl.scheme}:${acl.id}:${formatPerms(acl.perms)}`;
}

const BASE64_SHA1 = /^[A-Za-z0-9+/]{27}=$/;
const USER = /^[^:\s]+$/;

/**
 * Parses one policy entry `digest:<user>:<base64 sha1>:<perms>`. Only the `digest` scheme is
 * accepted: a `world:anyone` entry would open the namespace, which a policy is there to prevent.
 * @throws RangeError saying what is wrong (the entry holds no secret, so it may be quoted).
 */
export function parseAclEntry(text: string): ZkAcl {
  const parts = text.split(':');
  if (parts[0] !== 'digest') {
    throw new RangeError(`expected digest:<user>:<base64 sha1>:<perms>, got scheme "${parts[0]}" (only digest identities are allowed; world:anyone would open the namespace)`);
  }
  if (parts.length !== 4) throw new RangeError('expected digest:<user>:<base64 sha1>:<perms> (4 parts separated by ":")');
  const [, user, hash, perms] = parts as [string, string, string, string];
  if (!USER.test(user)) throw new RangeError(`user must be non-empty, without spaces or ":", got ${JSON.stringify(user)}`);
  if (!BASE64_SHA1.test(hash)) throw new RangeError(`the hash of ${user} must be base64 of a sha1 (28 characters ending in "="), as printed by \`zkctl acl digest ${user}\``);
  return { scheme: 'digest', id: `${user}:${hash}`, perms: parsePerms(perms) };
}

/** True when the list lets anyone (`world:anyone`) in with any right. */
export function isOpenAcl(acl: readonly ZkAcl[]): boolean {
  return acl.some((a) => a.scheme === 'world' && a.id === 'anyone');
}

/** The user part of a digest id, e.g. `alice` of `alice:Xk...=`. */
export function aclUser(acl: ZkAcl): string {
  return acl.scheme === 'digest' ? acl.id.split(':')[0]! : `${acl.scheme}:${acl.id}`;
}

/**
 * Whether two ACL lists grant the same rights to the same identities (order ignored). A digest
 * hash ZooKeeper masked as `x` (read without ADMIN) matches any hash of that user.
 */
export function sameAcl(a: readonly ZkAcl[], b: readonly ZkAcl[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: ZkAcl) => `${x.scheme}:${x.scheme === 'digest' ? x.id.split(':')[0] : x.id}:${x.perms}`;
  const masked = (x: ZkAcl) => x.scheme === 'digest' && x.id.endsWith(':x');
  return a.every((x) => b.some((y) => key(x) === key(y) && (x.id === y.id || masked(x) || masked(y))));
}

/** True when a digest hash in the list was masked by the server (the reader lacks ADMIN). */
export function hasMaskedDigest(acl: readonly ZkAcl[]): boolean {
  return acl.some((a) => a.scheme === 'digest' && a.id.endsWith(':x'));
}

/** The fleet identity with every right, then the policy's other entries (a repeat of it dropped). */
export function policyAcl(credentials: ZkCredentials | undefined, extra: readonly ZkAcl[] = []): ZkAcl[] {
  if (!credentials) return [...OPEN_ACL];
  const own: ZkAcl = { scheme: 'digest', id: credentials.id, perms: PERMS.all };
  return [own, ...extra.filter((e) => !(e.scheme === own.scheme && e.id === own.id))];
}

/** To the client library's ACL objects. */
export function toLibraryAcl(acl: readonly ZkAcl[]): zookeeper.ACL[] {
  return acl.map((a) => new zookeeper.ACL(a.perms, new zookeeper.Id(a.scheme, a.id)));
}

/** From the client library's ACL objects (at run time their bits are in `permission`, whatever its typings say). */
export function fromLibraryAcl(acl: readonly zookeeper.ACL[]): ZkAcl[] {
  return acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: (a as unknown as { permission: number }).permission }));
}

/**
 * Digest credentials (`user:password`). `toString`, JSON and `util.inspect` show the user only.
 */
export class ZkCredentials {
  readonly scheme = 'digest';
  readonly user: string;
  readonly #password: string;

  constructor(user: string, password: string) {
    this.user = user;
    this.#password = password;
  }

  /**
   * Parses `user:password` (the first `:` splits; the password may contain more).
   * @param source where the text came from, for the error (e.g. `environment variable ZKSHARD_ZK_AUTH`)
   * @throws RangeError naming the source, never quoting the text
   */
  static parse(text: string, source: string): ZkCredentials {
    const trimmed = text.replace(/\r?\n$/, '');
    const colon = trimmed.indexOf(':');
    if (colon < 0) throw new RangeError(`${source}: expected user:password (no ":" found; the value is not shown)`);
    const user = trimmed.slice(0, colon);
    const password = trimmed.slice(colon + 1);
    if (!USER.test(user)) throw new RangeError(`${source}: the user part of user:password must be non-empty, without spaces`);
    if (password === '') throw new RangeError(`${source}: the password of user ${user} is empty`);
    return new ZkCredentials(user, password);
  }

  /** The `<user>:<base64 sha1>` id ZooKeeper gives this session. */
  get id(): string {
    return digestId(this.user, this.#password);
  }

  /** The bytes sent with `addAuthInfo` (only the ZooKeeper client needs them). */
  authBytes(): Buffer {
    return Buffer.from(`${this.user}:${this.#password}`, 'utf8');
  }

  toString(): string {
    return `digest:${this.user}`;
  }

  toJSON(): { scheme: string; user: string } {
    return { scheme: this.scheme, user: this.user };
  }

  [inspect.custom](): string {
    return `ZkCredentials { digest:${this.user} }`;
  }
}
