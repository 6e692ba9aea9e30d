import { createServer, type Server } from 'node:net';

/**
 * Finds `count` distinct free TCP ports on `host` by binding port 0 that many times at once (so the
 * kernel hands out different ports), then releasing them. Another process may take a port between
 * release and use; callers that picked ports this way retry once with new ones on "address in use".
 * @param host @default '127.0.0.1'
 */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0, exclusive: true }, () => resolve());
      });
    }
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected server address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** The ports among `ports` that cannot be bound on `host` right now (something listens there). */
export async function busyPorts(ports: readonly number[], host = '127.0.0.1'): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) {
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host, port, exclusive: true }, () => resolve(true));
    });
    if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
    else busy.push(port);
  }
  return busy;
}
