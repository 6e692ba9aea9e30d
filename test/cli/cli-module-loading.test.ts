import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = resolve(import.meta.dirname, '..', '..');

/** The npm packages (CommonJS ones, which land in require.cache) a fresh process has loaded after importing `modules` of dist/. */
function packagesLoadedBy(modules: string[]): string[] {
  const imports = modules.map((m) => `await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'src', m)).href)});`).join('\n');
  const script = `${imports}
const { createRequire } = await import('node:module');
const cache = createRequire(import.meta.url).cache;
console.log(JSON.stringify([...new Set(Object.keys(cache).filter((k) => k.includes('/node_modules/')).map((k) => k.split('/node_modules/').pop().split('/')[0]))]));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as string[];
}

describe('what the zkshard commands load', () => {
  it('a worker loads neither the console server nor the PostgreSQL client; the commands that use them load them when run', () => {
    // Every command is defined by the one zkshard binary: their definitions must stay light.
    const all = packagesLoadedBy(['cli/worker-command.js', 'cli/console-command.js', 'cli/history-command.js', 'cli/stage-command.js']);
    expect(all).toContain('node-zookeeper-client');
    expect(all).not.toContain('pg');
    expect(all).not.toContain('fastify');
    // (What they load when run: the console's server, the history's client.)
    const used = packagesLoadedBy(['console/console-app.js', 'history/history-db.js']);
    expect(used).toEqual(expect.arrayContaining(['fastify', 'pg']));
  });
});
