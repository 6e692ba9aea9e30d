import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SandboxHost } from './sandbox-host.js';
import type { FromSandbox, ToSandbox } from './sandbox-messages.js';

/**
 * A sandbox in a child process (`fork`, structured-clone messages over IPC): its own heap and
 * event loop; its stdout and stderr are the worker's. It exits by itself when the worker goes.
 */
export class ProcessHost extends SandboxHost {
  readonly kind = 'process' as const;
  private child: ChildProcess | undefined;

  constructor(private readonly entry: URL) {
    super();
  }

  start(): this {
    const child = fork(fileURLToPath(this.entry), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (msg) => this.received(msg as FromSandbox));
    child.once('error', () => this.kill());
    child.once('exit', (code, signal) => this.exited(signal ? `process killed by ${signal}` : `process exited with code ${code}`));
    return this;
  }

  send(msg: ToSandbox): void {
    if (this.alive && this.child?.connected) this.child.send(msg);
  }

  kill(): void {
    if (this.alive && this.child?.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  setRef(ref: boolean): void {
    const channel = this.child?.channel as { ref(): void; unref(): void } | null | undefined;
    if (ref) {
      this.child?.ref();
      channel?.ref();
    } else {
      this.child?.unref();
      channel?.unref();
    }
  }
}
