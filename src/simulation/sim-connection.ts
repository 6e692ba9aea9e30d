import type { SimTimer, SimTimers } from './sim-clock.js';
import type { SimClientMessage, SimServerMessage } from './sim-protocol.js';

/** The server's end of a connection. */
export interface SimServerEnd {
  receive(conn: SimConnection, msg: SimClientMessage): void;
  /** The connection is gone (the server drops its watches). */
  onClosed(conn: SimConnection): void;
}

/** The client's end of a connection. */
export interface SimClientEnd {
  onMessage(conn: SimConnection, msg: SimServerMessage): void;
  onClosed(conn: SimConnection): void;
}

export interface SimConnectionOptions {
  /** A name for traces, e.g. `p3#2`: the process and its n-th connection. */
  id: string;
  /** Timers of the client's process: deliveries to a frozen client wait until it thaws. */
  clientTimers: SimTimers;
  serverTimers: SimTimers;
  server: SimServerEnd;
  client: SimClientEnd;
  /** One message's one-way latency, in ms (drawn from the seed). */
  latencyMs: () => number;
  /** While true, nothing moves either way (as over TCP during a partition: held, then delivered). */
  partitioned: () => boolean;
}

/** What the next request to reach the server meets: lost before it, or applied and its answer lost. */
export type SimRequestLoss = 'before-apply' | 'after-apply';

/** One direction of a connection: first in, first out, each message after its latency. */
class Channel<M> {
  private readonly queue: Array<{ msg: M; dueMs: number }> = [];
  private timer: SimTimer | undefined;
  private lastDueMs = 0;

  constructor(
    private readonly timers: SimTimers,
    private readonly latencyMs: () => number,
    private readonly blocked: () => boolean,
    private readonly deliver: (msg: M) => void,
  ) {}

  send(msg: M): void {
    const dueMs = Math.max(this.lastDueMs, this.timers.monotonicNow() + this.latencyMs());
    this.lastDueMs = dueMs;
    this.queue.push({ msg, dueMs });
    this.arm();
  }

  /** Re-times the held messages after a partition heals. */
  resume(): void {
    const now = this.timers.monotonicNow();
    this.lastDueMs = now;
    for (const q of this.queue) {
      q.dueMs = Math.max(this.lastDueMs, now + this.latencyMs());
      this.lastDueMs = q.dueMs;
    }
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.arm();
  }

  clear(): void {
    this.queue.length = 0;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  get size(): number {
    return this.queue.length;
  }

  private arm(): void {
    if (this.timer || this.queue.length === 0 || this.blocked()) return;
    const head = this.queue[0]!;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.blocked()) return;
      const next = this.queue.shift();
      this.arm();
      if (next) this.deliver(next.msg);
    }, head.dueMs - this.timers.monotonicNow());
  }
}

/**
 * One TCP connection between a simulated client and the simulated server: two FIFO channels
 * with seeded latency. It can be aborted (a reset: what is in flight is lost, both ends notice),
 * closed gracefully by the server (what it sent still arrives, then the close), or stalled by a
 * partition (nothing moves, nobody notices, until it heals or an end gives up on it).
 */
export class SimConnection {
  readonly id: string;
  private readonly toServer: Channel<SimClientMessage>;
  private readonly toClient: Channel<SimServerMessage | { kind: 'close' }>;
  private clientOpen = true;
  private serverOpen = true;
  private loss: SimRequestLoss | undefined;

  constructor(private readonly opts: SimConnectionOptions) {
    this.id = opts.id;
    this.toServer = new Channel(opts.serverTimers, opts.latencyMs, opts.partitioned, (msg) => this.arriveAtServer(msg));
    this.toClient = new Channel(opts.clientTimers, opts.latencyMs, opts.partitioned, (msg) => this.arriveAtClient(msg));
  }

  /** Whether the client still uses this connection. */
  get isOpen(): boolean {
    return this.clientOpen;
  }

  sendToServer(msg: SimClientMessage): void {
    if (this.clientOpen) this.toServer.send(msg);
  }

  sendToClient(msg: SimServerMessage): void {
    if (this.serverOpen) this.toClient.send(msg);
  }

  /** Fault: the next request that reaches the server is lost before it, or applied and then the connection resets. */
  loseNextRequest(loss: SimRequestLoss): void {
    this.loss = loss;
  }

  /** After a partition heals: what was held moves again. */
  resume(): void {
    this.toServer.resume();
    this.toClient.resume();
  }

  /**
   * The client drops the connection (its read timeout, its close). The server notices at once,
   * unless a partition swallows the reset: then it keeps the connection until the session
   * expires or the client comes back on another one.
   */
  abortByClient(): void {
    if (!this.clientOpen) return;
    this.clientOpen = false;
    this.toServer.clear();
    this.toClient.clear();
    if (!this.opts.partitioned()) this.closeServerSide();
  }

  /** A reset from the network or the server: what is in flight is lost; both ends notice. */
  abort(): void {
    this.closeServerSide();
    this.toServer.clear();
    this.toClient.clear();
    if (this.clientOpen) this.toClient.send({ kind: 'close' });
  }

  /** The server closes after what it already sent (a closed or expired session). */
  closeByServer(): void {
    if (!this.serverOpen) return;
    this.toClient.send({ kind: 'close' });
    this.closeServerSide();
  }

  private closeServerSide(): void {
    if (!this.serverOpen) return;
    this.serverOpen = false;
    this.toServer.clear();
    this.opts.server.onClosed(this);
  }

  private arriveAtServer(msg: SimClientMessage): void {
    if (!this.serverOpen) return;
    if (msg.kind === 'request' && this.loss && msg.request.op !== 'ping') {
      const loss = this.loss;
      this.loss = undefined;
      if (loss === 'before-apply') {
        this.abort();
        return;
      }
      this.opts.server.receive(this, msg);
      this.abort();
      return;
    }
    this.opts.server.receive(this, msg);
  }

  private arriveAtClient(msg: SimServerMessage | { kind: 'close' }): void {
    if (!this.clientOpen) return;
    if (msg.kind === 'close') {
      this.clientOpen = false;
      this.toServer.clear();
      this.opts.client.onClosed(this);
      return;
    }
    this.opts.client.onMessage(this, msg);
  }
}
