import { Worker, type ResourceLimits } from 'node:worker_threads';
import { SandboxHost } from './sandbox-host.js';
import type { FromSandbox, ToSandbox } from './sandbox-messages.js';

/** A sandbox in a worker thread: shares the process, not the event loop. */
export class ThreadHost extends SandboxHost {
  readonly kind = 'thread' as const;
  private worker: Worker | undefined;
  private error: Error | undefined;

  constructor(
    private readonly entry: URL,
    private readonly resourceLimits?: ResourceLimits,
  ) {
    super();
  }

  start(): this {
    const worker = new Worker(this.entry, { execArgv: [], resourceLimits: this.resourceLimits });
    this.worker = worker;
    worker.on('message', (msg: FromSandbox) => this.received(msg));
    // An uncaught exception or running out of memory: 'exit' follows.
    worker.on('error', (err) => (this.error ??= err));
    worker.once('exit', (code) => this.exited(`thread exited with code ${code}${this.error ? `: ${this.error.message}` : ''}`));
    return this;
  }

  send(msg: ToSandbox): void {
    if (this.alive) this.worker?.postMessage(msg);
  }

  kill(): void {
    if (this.alive) void this.worker?.terminate();
  }

  setRef(ref: boolean): void {
    if (ref) this.worker?.ref();
    else this.worker?.unref();
  }
}
