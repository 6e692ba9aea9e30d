import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './worker-metrics.js';
import { DEFAULTS } from '../defaults.js';

/** Whether the worker can do its work now, and if not, why. */
export interface Readiness {
  ready: boolean;
  /** Empty when ready. */
  reasons: string[];
}

export interface WorkerHttpServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  metrics: WorkerMetrics;
  readiness: () => Readiness;
  log: Logger;
}

/**
 * The worker's optional HTTP endpoint: `GET /metrics` (Prometheus text format), `GET /healthz`
 * (the process is alive), `GET /readyz` (200 when ready, 503 with the reasons otherwise).
 */
export class WorkerHttpServer {
  private server: Server | undefined;

  constructor(private readonly opts: WorkerHttpServerOptions) {}

  /** The port it listens on (after `start()`). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      if (path === '/metrics') {
        this.opts.metrics.text().then(
          (text) => res.writeHead(200, { 'content-type': this.opts.metrics.contentType }).end(text),
          (err: unknown) => {
            this.opts.log.warn({ err }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else if (path === '/healthz') {
        json(res, 200, { status: 'ok' });
      } else if (path === '/readyz') {
        const r = this.opts.readiness();
        json(res, r.ready ? 200 : 503, r);
      } else {
        json(res, 404, { error: `no such path: ${path}`, paths: ['/metrics', '/healthz', '/readyz'] });
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host ?? DEFAULTS.worker.httpHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.opts.log.info({ host: this.opts.host ?? DEFAULTS.worker.httpHost, port: this.port }, 'http endpoint listening');
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
