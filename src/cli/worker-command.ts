import { Command, Option } from 'commander';
import { loadWorkerConfig } from '../config/load-worker-config.js';
import { createLogger } from '../logging/create-logger.js';
import { Worker } from '../worker/worker.js';
import { EXIT } from './exit-codes.js';

/** `zkshard worker --config <file>`: runs a worker until SIGTERM/SIGINT. */
export function makeWorkerCommand(): Command {
  return new Command('worker')
    .description('run a worker: join the fleet, fire and run its shard items')
    .requiredOption('-c, --config <file>', 'worker config file (YAML)')
    .addOption(new Option('--zk <connect>', 'ZooKeeper connection string (overrides the file)').env('ZKSHARD_ZK'))
    .addOption(new Option('--namespace <ns>', 'root znode of the fleet (overrides the file)').env('ZKSHARD_NAMESPACE'))
    .addOption(new Option('--id <worker-id>', 'worker id (overrides the file)').env('ZKSHARD_WORKER_ID'))
    .addOption(new Option('--log-format <format>', 'json lines (default) or pretty lines for people (overrides logging.format)').choices(['json', 'pretty']))
    .action(async (opts: { config: string; zk?: string; namespace?: string; id?: string; logFormat?: 'json' | 'pretty' }) => {
      const config = await loadWorkerConfig(opts.config, { zk: opts.zk, namespace: opts.namespace, id: opts.id });
      const logger = createLogger({ level: config.logging.level, format: opts.logFormat ?? config.logging.format });
      // The run history (PostgreSQL), when configured: written off the firing path, closed (flushed) after the drain.
      // (Loaded only then: a worker without history never loads the PostgreSQL client.)
      const history = config.history ? (await import('../history/open-history.js')).openHistoryWriter(config.history, logger) : undefined;
      const worker = new Worker({
        connect: config.zookeeper.connect,
        namespace: config.zookeeper.namespace,
        sessionTimeoutMs: config.zookeeper.sessionTimeoutMs,
        maxRequestBytes: config.zookeeper.maxRequestBytes,
        credentials: config.zookeeper.credentials,
        acl: config.zookeeper.acl,
        tls: config.zookeeper.tls,
        id: config.worker.id,
        labels: config.worker.labels,
        capacity: config.worker.capacity,
        shutdownGraceMs: config.worker.shutdownGraceMs,
        maxClockSkewMs: config.worker.maxClockSkewMs,
        http: config.worker.http,
        jobs: config.jobs,
        baseDir: config.baseDir,
        logger,
        recorder: history,
      });
      if (history && worker.metrics) history.registerMetrics(worker.metrics.registry);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal: exiting now');
          logger.flush();
          process.exit(EXIT.FAILED);
        }
        logger.info({ signal }, 'shutting down');
        void worker.shutdown().then(() => history?.close()).then(() => {
          logger.info('bye');
          logger.flush(() => process.exit(EXIT.OK));
        });
      };
      // A bug must not go unseen: log it as JSON (errors under `err`), then exit as Node would.
      process.on('unhandledRejection', (err) => {
        logger.fatal({ err }, 'unhandled rejection: exiting');
        logger.flush(() => process.exit(EXIT.FAILED));
      });
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      await history?.start();
      await worker.start();
    });
}
