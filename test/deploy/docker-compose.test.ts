import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs on our machines: check what the files say, statically.
const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

interface ComposeService {
  command?: string[];
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string> | string[];
  ports?: Array<string | { target: number; published: string | number; host_ip?: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;

function env(service: ComposeService): Record<string, string> {
  const e = service.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

function dependsOn(service: ComposeService): string[] {
  const d = service.depends_on ?? [];
  return Array.isArray(d) ? d : Object.keys(d);
}

/** Last stage's ENTRYPOINT + CMD, both in exec (JSON array) form. */
function dockerfileCommand(text: string): string[] {
  const lastStage = text.slice(text.lastIndexOf('\nFROM '));
  const instruction = (name: string): string[] => {
    const m = new RegExp(`^${name}\\s+(\\[.*\\])\\s*$`, 'm').exec(lastStage);
    return m ? (JSON.parse(m[1]!) as string[]) : [];
  };
  return [...instruction('ENTRYPOINT'), ...instruction('CMD')];
}

describe('docker-compose.yml', () => {
  it('names a 3-node ZooKeeper ensemble, three workers and the console', () => {
    expect(Object.keys(services).sort()).toEqual(['console', 'worker-a', 'worker-b', 'worker-c', 'zk1', 'zk2', 'zk3']);
  });

  it('runs zookeeper:3.9 with ids 1..3, one ZOO_SERVERS line for all, client ports 2181..2183 on 127.0.0.1', () => {
    ['zk1', 'zk2', 'zk3'].forEach((name, i) => {
      const zk = services[name]!;
      expect(zk.image).toBe('zookeeper:3.9');
      const e = env(zk);
      expect(e['ZOO_MY_ID']).toBe(String(i + 1));
      expect(e['ZOO_SERVERS']).toBe('server.1=zk1:2888:3888;2181 server.2=zk2:2888:3888;2181 server.3=zk3:2888:3888;2181');
      expect(e['ZOO_4LW_COMMANDS_WHITELIST']).toMatch(/\bsrvr\b/); // the healthcheck (zkServer.sh status) uses srvr
      expect(zk.ports).toEqual([`127.0.0.1:${2181 + i}:2181`]);
    });
  });

  it('builds each worker from the repo Dockerfile with its own id, the ensemble address and the config mounted', () => {
    for (const id of ['worker-a', 'worker-b', 'worker-c']) {
      const w = services[id]!;
      expect(w.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
      expect(env(w)).toEqual({ ZKSHARD_ZK: 'zk1:2181,zk2:2181,zk3:2181', ZKSHARD_WORKER_ID: id });
      expect(dependsOn(w).sort()).toEqual(['zk1', 'zk2', 'zk3']);
      expect(w.volumes).toContain('./config:/app/config:ro');
      expect(w.ports).toBeUndefined();
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds on node:20-slim with npm ci and npm run build', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile.match(/^FROM .*$/gm)?.at(-1)).toBe('FROM node:20-slim');
  });

  it('runs the zkshard worker with the mounted config by default', () => {
    expect(dockerfileCommand(dockerfile)).toEqual(['node', 'dist/src/cli/zkshard.js', 'worker', '--config', '/app/config/worker.yaml']);
  });

  it('is built from a context without node_modules, dist or .git', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });
  it('runs the console from the same image, published on 127.0.0.1 only, with a users file the user makes (no default account)', () => {
    const c = services.console!;
    expect(c.image).toBe('zkshard:local');
    expect(c.command?.[0]).toBe('console');
    expect(c.command).toContain('--users');
    expect(c.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(c.volumes).toEqual(['./console-users.yaml:/app/console-users.yaml:ro']);
    expect(() => readFileSync(join(root, 'console-users.yaml'))).toThrow(); // none shipped
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist\/ui \.\/dist\/ui/);
  });
});
