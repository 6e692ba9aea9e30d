import { describe, expect, it } from 'vitest';
import { parseUsersFile } from '../../src/console/users-file.js';
import { hashPassword, verifyPassword } from '../../src/console/password-hash.js';
import { ConfigError } from '../../src/errors/config-error.js';

describe('users file and password hashes', () => {
  it('hashes are salted scrypt; verify accepts the password only', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse'), hashPassword('correct horse')]);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b); // salted
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'sha256$abc')).toBe(false);
  });

  it('refuses a file without users: there is no default account', () => {
    expect(() => parseUsersFile('users: []\n', 'users.yaml')).toThrow(/no users: the console has no default account/);
    expect(() => parseUsersFile('', 'users.yaml')).toThrow(ConfigError);
  });

  it('names every bad entry without quoting a hash', async () => {
    const hash = await hashPassword('a-good-password');
    const text = `users:\n  - { name: ann, role: admin, passwordHash: "${hash}" }\n  - { name: bob, role: root, passwordHash: "plain-text-secret" }\n  - { name: ann, role: viewer, passwordHash: "${hash}" }\n`;
    let err: ConfigError | undefined;
    try {
      parseUsersFile(text, 'users.yaml');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems.map((p) => p.key)).toEqual(['users[1].role', 'users[1].passwordHash', 'users[2].name']);
    expect(err?.message).toContain('users.yaml: users[1].role: must be one of viewer, operator, admin (got: "root")');
    expect(err?.message).not.toContain('plain-text-secret');
    expect(parseUsersFile(`users:\n  - { name: ann, role: admin, passwordHash: "${hash}" }\n`, 'u.yaml')).toEqual([{ name: 'ann', role: 'admin', passwordHash: hash }]);
  });
});
