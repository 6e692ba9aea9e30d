import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters of new hashes (N = 2^15, r = 8, p = 1: ~32 MiB, ~50–100 ms). */
const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** scrypt's memory need is 128·N·r bytes; node refuses above `maxmem`. */
const MAX_MEM = 256 * N * R;

/** The stored form: `scrypt$<N>$<r>$<p>$<salt base64>$<key base64>`. */
export const PASSWORD_HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function derive(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A salted scrypt hash of `password` for a users file (`zkshard console hash-password`). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N, r: R, p: P, maxmem: MAX_MEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `hash` is in the stored form (and its parameters are sane), without checking any password. */
export function passwordHashProblem(hash: string): string | undefined {
  const m = PASSWORD_HASH_PATTERN.exec(hash);
  if (!m) return 'expected scrypt$<N>$<r>$<p>$<salt>$<key> (from zkshard console hash-password)';
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 2 ** 14 || n > 2 ** 20 || (n & (n - 1)) !== 0) return `scrypt N must be a power of two from 16384 to 1048576, got ${n}`;
  if (r < 1 || r > 32 || p < 1 || p > 16) return `scrypt r must be 1..32 and p 1..16, got r=${r} p=${p}`;
  if (Buffer.from(m[4]!, 'base64').length < 8 || Buffer.from(m[5]!, 'base64').length < 16) return 'salt or key too short';
  return undefined;
}

/** Checks a password against a stored hash in constant time (a malformed hash never matches). */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const m = PASSWORD_HASH_PATTERN.exec(hash);
  if (!m || passwordHashProblem(hash) !== undefined) return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), expected.length, { N: n, r, p, maxmem: 256 * n * r });
  return timingSafeEqual(key, expected);
}

/** A hash of a random password, checked for unknown users so that they take as long as known ones. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
