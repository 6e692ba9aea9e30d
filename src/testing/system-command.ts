import { spawn } from 'node:child_process';
import { NetworkNamespaceError } from './network-namespace-error.js';

/** How long one `ip`/`iptables` command may take before it is killed. */
export const SYSTEM_COMMAND_TIMEOUT_MS = 10_000;

/** Options of {@link runSystemCommand}. */
export interface SystemCommandOptions {
  /** Written to the command's stdin (e.g. an `iptables-restore` rule set). @default nothing */
  input?: string;
  /** @default SYSTEM_COMMAND_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * Runs a short administrative command (`ip`, `iptables-restore`) and resolves with its stdout.
 * Bounded: killed with SIGKILL after `timeoutMs`. Rejects with a {@link NetworkNamespaceError}
 * naming the command line, the exit status and the command's stderr.
 */
export function runSystemCommand(file: string, args: readonly string[], options: SystemCommandOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? SYSTEM_COMMAND_TIMEOUT_MS;
  const line = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new NetworkNamespaceError(`\`${line}\` could not run: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else {
        const how = signal === 'SIGKILL' ? `was killed after ${timeoutMs} ms` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new NetworkNamespaceError(`\`${line}\` ${how}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`));
      }
    });
    child.stdin.on('error', () => {
      /* the command exited before reading its input: its exit status tells */
    });
    child.stdin.end(options.input ?? '');
  });
}
