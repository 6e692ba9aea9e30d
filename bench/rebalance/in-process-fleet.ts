import type { Logger } from 'pino';
import type { JobDefinition } from '../../src/config/job-definition.js';
import { Worker } from '../../src/worker/worker.js';
import type { BenchCleanup } from '../lib/bench-cleanup.js';

export interface InProcessFleetOptions {
  connect: string;
  namespace: string;
  jobs: readonly JobDefinition[];
  /** Directory relative handler paths resolve against. */
  baseDir: string;
  logger: Logger;
  sessionTimeoutMs: number;
  shutdownGraceMs: number;
  cleanup: BenchCleanup;
}

interface Entry {
  worker: Worker;
  unregister: () => void;
  joins: number;
}

/**
 * zkshard `Worker`s in this process, each on its own ZooKeeper session, all declaring every job.
 * Every worker is registered with the bench cleanup while it runs.
 */
export class InProcessFleet {
  private readonly entries = new Map<string, Entry>();
  private lostSessions = 0;

  constructor(private readonly opts: InProcessFleetOptions) {}

  /**
   * Starts a worker; resolves once it has joined (registered as a member, caches read).
   * @throws Error when it has not joined within `timeoutMs` (it stays registered for cleanup).
   */
  async start(id: string, timeoutMs = 60_000): Promise<Worker> {
    if (this.entries.has(id)) throw new Error(`fleet: worker ${id} already runs`);
    const worker = new Worker({
      connect: this.opts.connect,
      namespace: this.opts.namespace,
      sessionTimeoutMs: this.opts.sessionTimeoutMs,
      shutdownGraceMs: this.opts.shutdownGraceMs,
      id,
      jobs: this.opts.jobs.map((definition) => ({ definition, overwrite: false })),
      baseDir: this.opts.baseDir,
      logger: this.opts.logger,
    });
    const entry: Entry = { worker, unregister: this.opts.cleanup.add(`worker ${id}`, () => worker.shutdown()), joins: 0 };
    worker.on('joined', () => {
      entry.joins++;
      if (entry.joins > 1) this.lostSessions++;
    });
    this.entries.set(id, entry);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`fleet: worker ${id} did not join within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([worker.start(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    return worker;
  }

  /** Shuts a worker down gracefully (drain, leave, close its session). */
  async leave(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`fleet: no worker ${id}`);
    this.entries.delete(id);
    await entry.worker.shutdown();
    entry.unregister();
  }

  /** Shuts every worker down, all at once. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.leave(id)));
  }

  /** Ids of the running workers, in start order. */
  get ids(): string[] {
    return [...this.entries.keys()];
  }

  worker(id: string): Worker | undefined {
    return this.entries.get(id)?.worker;
  }

  /** Member name → worker id of every running worker that has joined. */
  memberIds(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, e] of this.entries) {
      const name = e.worker.memberName;
      if (name) out.set(name, id);
    }
    return out;
  }

  /** Id of the worker currently leading, if any. */
  leader(): string | undefined {
    for (const [id, e] of this.entries) if (e.worker.isLeader) return id;
    return undefined;
  }

  /** Sessions lost and rejoined so far (should stay 0: the bench must not starve the workers). */
  get rejoins(): number {
    return this.lostSessions;
  }
}
