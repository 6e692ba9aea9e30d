import { onProcessExit } from '../../src/testing/exit-cleanup.js';

type Closer = () => Promise<void> | void;

/**
 * Everything a bench run started, stopped in reverse order by `closeAll()` (also on SIGINT/SIGTERM,
 * from the runner). Child pids are also killed synchronously on process exit, so even a bench that
 * dies on an exception leaves no process behind.
 */
export class BenchCleanup {
  private readonly closers: Array<{ name: string; close: Closer }> = [];
  private readonly pids = new Set<number>();
  private readonly unhook = onProcessExit(() => {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  /** Registers something to close; returns a function that unregisters it (after closing it yourself). */
  add(name: string, close: Closer): () => void {
    const entry = { name, close };
    this.closers.push(entry);
    return () => {
      const i = this.closers.indexOf(entry);
      if (i >= 0) this.closers.splice(i, 1);
    };
  }

  /** Tracks a child process pid for the synchronous kill on exit. */
  trackPid(pid: number): () => void {
    this.pids.add(pid);
    return () => this.pids.delete(pid);
  }

  /** Closes everything registered, newest first; errors are reported, not thrown. */
  async closeAll(report: (line: string) => void = () => {}): Promise<void> {
    while (this.closers.length > 0) {
      const { name, close } = this.closers.pop()!;
      try {
        await close();
      } catch (err) {
        report(`cleanup of ${name} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Last step: kills any tracked pid still alive and drops the exit hook. */
  dispose(): void {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.pids.clear();
    this.unhook();
  }
}
