import { SimClock } from '../../src/simulation/sim-clock.js';
import { SeededRandom } from '../../src/simulation/seeded-random.js';
import { SimTrace } from '../../src/simulation/sim-trace.js';
import { SimZooKeeper, type SimZooKeeperOptions } from '../../src/simulation/sim-zookeeper.js';
import { SimZkClient, type SimZkClientOptions } from '../../src/simulation/sim-zk-client.js';

/** A simulated server, clock and trace for one test, and started clients on them. */
export class SimWorld {
  readonly random: SeededRandom;
  readonly clock: SimClock;
  readonly trace: SimTrace;
  readonly server: SimZooKeeper;
  private count = 0;

  constructor(seed: number, server: Partial<Omit<SimZooKeeperOptions, 'timers' | 'random' | 'trace'>> = {}) {
    this.random = new SeededRandom(seed);
    this.clock = new SimClock({ random: this.random.fork() });
    this.trace = new SimTrace(() => this.clock.nowMs);
    this.server = new SimZooKeeper({ timers: this.clock.timers('server'), random: this.random.fork(), trace: this.trace, tickMs: 500, minSessionTimeoutMs: 1000, ...server });
  }

  /** A new client (not started) of a process of its own. */
  client(options: Partial<Omit<SimZkClientOptions, 'server' | 'clock' | 'random' | 'trace'>> = {}): SimZkClient {
    return new SimZkClient({ server: this.server, clock: this.clock, random: this.random.fork(), trace: this.trace, process: `p${this.count++}`, sessionTimeoutMs: 3000, ...options });
  }

  /** A new, started client. */
  async started(options: Partial<Omit<SimZkClientOptions, 'server' | 'clock' | 'random' | 'trace'>> = {}): Promise<SimZkClient> {
    const zk = this.client(options);
    await this.settle(zk.start());
    return zk;
  }

  /** Runs the clock until `p` settles (at most `maxMs` of virtual time), and returns its outcome. */
  async settle<T>(p: Promise<T>, maxMs = 120_000): Promise<T> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    await this.clock.runUntil(() => done, maxMs);
    return p;
  }

  /** Runs the clock until `condition` holds. */
  until(condition: () => boolean, maxMs = 120_000): Promise<void> {
    return this.clock.runUntil(condition, maxMs);
  }
}
