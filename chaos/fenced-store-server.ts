import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoreWrite } from './chaos-records.js';

/**
 * The chaos suite's downstream store, on loopback (or the address given to `start`, e.g. a
 * `NetworkLab`'s host address so that namespaced workers reach it): per key it keeps the largest fencing token
 * that wrote and refuses writes with a smaller one (see docs/FENCING.md). Every write attempt is
 * kept, accepted or not, for the checker.
 */
export class FencedStoreServer {
  readonly writes: StoreWrite[] = [];
  private readonly tokens = new Map<string, bigint>();
  private server: Server | undefined;
  private host = '127.0.0.1';

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('fenced store: not started');
    return `http://${this.host}:${address.port}`;
  }

  /** Listens on a free port of `host` (an IPv4 address). */
  async start(host = '127.0.0.1'): Promise<void> {
    this.host = host;
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        try {
          const w = JSON.parse(body) as Omit<StoreWrite, 'accepted' | 'current' | 'at'>;
          const token = BigInt(w.token);
          const current = this.tokens.get(w.key);
          const accepted = current === undefined || token >= current;
          if (accepted) this.tokens.set(w.key, token);
          this.writes.push({ key: w.key, token: w.token, worker: w.worker, pid: w.pid, fire: w.fire, attempt: w.attempt, at: Date.now(), accepted, current: current?.toString() ?? null });
          res.writeHead(accepted ? 200 : 409).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
