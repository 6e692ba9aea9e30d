import { statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a Docker engine may be. */
export type DockerEndpoint = { kind: 'socket'; path: string } | { kind: 'tcp'; host: string; port: number; tls: boolean };

/**
 * The endpoints worth probing: `DOCKER_HOST` alone when it is set, else the usual socket paths
 * (`/var/run/docker.sock`, rootless `$XDG_RUNTIME_DIR/docker.sock`, Docker Desktop's) that exist.
 */
export function dockerEndpoints(env: NodeJS.ProcessEnv = process.env): DockerEndpoint[] {
  const host = env.DOCKER_HOST?.trim();
  if (host) {
    if (host.startsWith('unix://')) return [{ kind: 'socket', path: host.slice('unix://'.length) }];
    const m = /^(?:tcp|http|https):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(host);
    if (m) return [{ kind: 'tcp', host: m[1]!, port: Number(m[2]), tls: host.startsWith('https') || Boolean(env.DOCKER_TLS_VERIFY) }];
    return []; // npipe:// or ssh://: not probed; testcontainers may still reach it, but we don't guess.
  }
  const candidates = [
    '/var/run/docker.sock',
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.docker', 'desktop', 'docker.sock'),
  ];
  return candidates
    .filter((p): p is string => p !== undefined && isSocket(p))
    .map((path) => ({ kind: 'socket' as const, path }));
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * Whether a Docker engine answers: `GET /_ping` → `OK` on a socket or plain TCP endpoint, or (TLS)
 * an accepted TCP connection. Never takes much longer than `timeoutMs` per endpoint.
 * @param timeoutMs @default 1500
 */
export async function isDockerReachable(options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 1500;
  for (const endpoint of dockerEndpoints(options.env)) {
    if (await probe(endpoint, timeoutMs)) return true;
  }
  return false;
}

function probe(endpoint: DockerEndpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => {
      cleanup();
      done(false);
    }, timeoutMs);
    let cleanup = (): void => undefined;
    if (endpoint.kind === 'tcp' && endpoint.tls) {
      const socket = connect({ host: endpoint.host, port: endpoint.port }, () => {
        socket.destroy();
        done(true);
      });
      socket.on('error', () => done(false));
      cleanup = () => socket.destroy();
      return;
    }
    const target = endpoint.kind === 'socket' ? { socketPath: endpoint.path } : { host: endpoint.host, port: endpoint.port };
    const req = request({ ...target, path: '/_ping', method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done(res.statusCode === 200 && body.trim() === 'OK'));
      res.on('error', () => done(false));
    });
    req.on('error', () => done(false));
    req.end();
    cleanup = () => req.destroy();
  });
}
