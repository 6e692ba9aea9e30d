import { EventEmitter } from 'node:events';
import type { FromSandbox, ToSandbox } from './sandbox-messages.js';

/** Where a sandboxed handler runs. */
export type SandboxKind = 'thread' | 'process';

export interface SandboxHostEvents {
  message: [msg: FromSandbox];
  /** The thread or process is gone; `why` says how (exit code, signal, uncaught error). */
  exit: [why: string];
}

/**
 * One sandbox (a worker thread or a child process) as the worker sees it: messages both ways,
 * `ready` once it listens, `kill()` ends it at once whatever it is doing, `exit` when it is gone.
 */
export abstract class SandboxHost extends EventEmitter<SandboxHostEvents> {
  abstract readonly kind: SandboxKind;
  /** Resolves once the sandbox listens; rejects if it is gone before. */
  readonly ready: Promise<void>;
  private exitReason: string | undefined;
  private settleReady!: (err?: Error) => void;

  constructor() {
    super();
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => undefined);
  }

  /** Whether the thread or process still runs. */
  get alive(): boolean {
    return this.exitReason === undefined;
  }

  /** How it ended (undefined while alive). */
  get exitedBecause(): string | undefined {
    return this.exitReason;
  }

  /** Starts the thread or process. */
  abstract start(): this;
  /** Sends a message (dropped once the sandbox is gone). */
  abstract send(msg: ToSandbox): void;
  /** Ends it now: `worker.terminate()` or SIGKILL. `exit` follows. */
  abstract kill(): void;
  /** Whether the sandbox keeps the worker's process alive (only while it runs something). */
  abstract setRef(ref: boolean): void;

  protected received(msg: FromSandbox): void {
    if (msg.t === 'ready') this.settleReady();
    else this.emit('message', msg);
  }

  protected exited(why: string): void {
    if (this.exitReason !== undefined) return;
    this.exitReason = why;
    this.settleReady(new Error(`sandbox ${this.kind} ended before it was ready: ${why}`));
    this.emit('exit', why);
  }
}
