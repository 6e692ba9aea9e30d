import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors/config-error.js';
import { isMapping } from '../config/config-reader.js';
import { CONSOLE_ROLES, type ConsoleRole } from './console-role.js';
import { passwordHashProblem } from './password-hash.js';

/** One console account. */
export interface ConsoleUser {
  name: string;
  role: ConsoleRole;
  passwordHash: string;
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const USER_KEYS = new Set(['name', 'role', 'passwordHash']);

/**
 * Parses a users file: `users: [{ name, role: viewer | operator | admin, passwordHash }]`.
 * There is no default account: a file without at least one user is refused.
 * @throws ConfigError with every problem (never quoting a hash).
 */
export function parseUsersFile(text: string, file: string): ConsoleUser[] {
  const problems: ConfigProblem[] = [];
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => ({ file, key: '', message: `YAML syntax error: ${e.message.split('\n')[0]}` })));
  const data = doc.toJS() as unknown;
  if (!isMapping(data) || !Array.isArray(data.users)) throw new ConfigError([{ file, key: 'users', message: 'expected a mapping with a "users:" list of { name, role, passwordHash }' }]);
  for (const key of Object.keys(data)) if (key !== 'users') problems.push({ file, key, message: 'unknown key (expected only "users")' });
  const users: ConsoleUser[] = [];
  const seen = new Set<string>();
  data.users.forEach((raw: unknown, i: number) => {
    const at = `users[${i}]`;
    if (!isMapping(raw)) return problems.push({ file, key: at, message: 'must be a mapping { name, role, passwordHash }' });
    for (const key of Object.keys(raw)) if (!USER_KEYS.has(key)) problems.push({ file, key: `${at}.${key}`, message: 'unknown key (expected name, role, passwordHash)' });
    const { name, role, passwordHash } = raw;
    let ok = true;
    if (typeof name !== 'string' || !USER_NAME.test(name)) {
      problems.push({ file, key: `${at}.name`, message: 'must be 1-64 characters of letters, digits, . _ @ -', value: name ?? null });
      ok = false;
    } else if (seen.has(name)) {
      problems.push({ file, key: `${at}.name`, message: 'duplicate user name', value: name });
      ok = false;
    }
    if (typeof role !== 'string' || !(CONSOLE_ROLES as readonly string[]).includes(role)) {
      problems.push({ file, key: `${at}.role`, message: `must be one of ${CONSOLE_ROLES.join(', ')}`, value: role ?? null });
      ok = false;
    }
    const hashProblem = typeof passwordHash === 'string' ? passwordHashProblem(passwordHash) : 'must be a string';
    if (hashProblem !== undefined) {
      problems.push({ file, key: `${at}.passwordHash`, message: hashProblem }); // never quoted
      ok = false;
    }
    if (ok) {
      seen.add(name as string);
      users.push({ name: name as string, role: role as ConsoleRole, passwordHash: passwordHash as string });
    }
  });
  if (problems.length === 0 && users.length === 0) problems.push({ file, key: 'users', message: 'no users: the console has no default account; add one (zkshard console hash-password makes its passwordHash)' });
  if (problems.length > 0) throw new ConfigError(problems);
  return users;
}

/** Reads and parses a users file; an unreadable file is a `ConfigError` naming it. */
export async function readUsersFile(file: string): Promise<ConsoleUser[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, key: '', message: `cannot read the users file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], { cause: err });
  }
  return parseUsersFile(text, file);
}
