import type pg from 'pg';
import type { Logger } from 'pino';
import { ZkPaths } from '../zk/zk-paths.js';
import type { ZkCredentials } from '../zk/zk-acl.js';
import type { ZkTlsOptions } from '../zk/zk-tls.js';
import { openHistoryPool } from '../history/history-db.js';
import { HistoryError } from '../history/history-error.js';
import { migrate } from '../history/migrations.js';
import { redactUrl } from '../config/postgres-url.js';
import { ConsoleZooKeeper } from './console-zookeeper.js';
import { EventHub } from './event-hub.js';
import { ConsoleOperations } from './console-operations.js';
import { ConsoleServer } from './console-server.js';
import type { ConsoleUser } from './users-file.js';
import { OpenJobs } from './open-jobs.js';
import type { FleetCache } from './fleet-cache.js';
import type { SweepTiming } from './sweep-loop.js';

export interface ConsoleAppOptions {
  connect: string;
  namespace: string;
  users: readonly ConsoleUser[];
  logger: Logger;
  /** `host:port`; host defaults to loopback. */
  host: string;
  port: number;
  credentials?: ZkCredentials;
  zkTls?: ZkTlsOptions;
  /** History database (runs and audit); else ZooKeeper's bounded history. */
  pgUrl?: string;
  readOnly?: boolean;
  tls?: { cert: Buffer; key: Buffer };
  uiRoot?: string;
  /** The console's ZooKeeper session timeout. @default 10000 */
  sessionTimeoutMs?: number;
  /** How the items of jobs no browser has open are swept (see FleetCache). */
  sweep?: SweepTiming & { concurrency?: number };
}

/**
 * The whole console process: its ZooKeeper session and watches, the event hub, the optional
 * history database, and the HTTP server. `start()` resolves with the URL; `close()` stops all
 * (idempotent). No I/O in the constructor.
 */
export class ConsoleApp {
  private zookeeper: ConsoleZooKeeper | undefined;
  private hub: EventHub | undefined;
  private server: ConsoleServer | undefined;
  private pool: pg.Pool | undefined;
  private closing: Promise<void> | undefined;
  private urlValue: string | undefined;

  constructor(private readonly options: ConsoleAppOptions) {}

  get url(): string | undefined {
    return this.urlValue;
  }

  /** The fleet as the console keeps it now (undefined between two ZooKeeper sessions): for tests and the bench. */
  get cache(): FleetCache | undefined {
    try {
      return this.zookeeper?.current().cache;
    } catch {
      return undefined;
    }
  }

  async start(): Promise<string> {
    const o = this.options;
    const log = o.logger;
    try {
      if (o.pgUrl) {
        this.pool = openHistoryPool(o.pgUrl, log.child({ component: 'console-history' }), { max: 4, connectTimeoutMs: 3000 });
        await migrate(this.pool).catch((err: unknown) => {
          if (err instanceof HistoryError) throw err;
          throw new HistoryError('HISTORY_UNAVAILABLE', `cannot reach PostgreSQL at ${redactUrl(o.pgUrl!)}: ${(err as Error).message}`, { cause: err });
        });
      }
      const openJobs = new OpenJobs();
      this.zookeeper = new ConsoleZooKeeper({
        connect: o.connect, paths: new ZkPaths(o.namespace), credentials: o.credentials, tls: o.zkTls, logger: log, sessionTimeoutMs: o.sessionTimeoutMs,
        cache: { openJobs, sweep: o.sweep },
      });
      await this.zookeeper.start();
      this.hub = new EventHub(this.zookeeper, { isOpen: (job) => openJobs.has(job) });
      this.hub.start();
      const operations = new ConsoleOperations(this.zookeeper, this.pool, log);
      this.server = new ConsoleServer({ users: o.users, operations, events: this.hub, openJobs, logger: log, readOnly: o.readOnly, tls: o.tls, uiRoot: o.uiRoot });
      this.urlValue = await this.server.start(o.host, o.port);
      log.child({ component: 'console' }).info({ url: this.urlValue, namespace: o.namespace, users: o.users.length, readOnly: o.readOnly === true, history: o.pgUrl ? 'postgres' : 'zookeeper' }, 'console listening');
      return this.urlValue;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.server?.close().catch(() => undefined);
      this.hub?.close();
      await this.zookeeper?.close().catch(() => undefined);
      await this.pool?.end().catch(() => undefined);
    })();
    return this.closing;
  }
}
