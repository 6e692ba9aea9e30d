import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from './java.js';
import { runSystemCommand } from './system-command.js';

/** Whether network-namespace tests can run here, and if not, why. */
export type NetnsSupport = { ok: true } | { ok: false; reason: string };

/** The directories where Debian puts `ip` and `iptables`, searched after `PATH`. */
const SBIN_DIRS = ['/usr/sbin', '/sbin'];

let support: Promise<NetnsSupport> | undefined;

/**
 * Finds out once per process whether this machine can run the partition harness: Linux, root,
 * `ip` (iproute2) and `iptables-restore` (iptables) present — installed with
 * `scripts/install-netns-tools.sh` (apt-get) when missing and we are root — and a namespace with a
 * packet filter can really be made (probe namespace, created and deleted). Never rejects: a
 * failure is `{ ok: false, reason }`, for a test to skip with.
 */
export function netnsSupport(): Promise<NetnsSupport> {
  support ??= probe().catch((err: unknown) => ({ ok: false as const, reason: (err as Error).message }));
  return support;
}

/** The path of a system tool (`ip`, `iptables-restore`) on `PATH` or in an sbin directory. */
export function systemTool(name: string): string | undefined {
  return findExecutable(name) ?? SBIN_DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
}

async function probe(): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root, as CI does)' };
  if (missingTools().length > 0) {
    const script = findNetnsInstallScript();
    if (script === undefined) return { ok: false, reason: `${missingTools().join(' and ')} missing, and scripts/install-netns-tools.sh not found` };
    if (systemTool('apt-get') === undefined) return { ok: false, reason: `${missingTools().join(' and ')} missing, and no apt-get to install them` };
    const installed = await runScript(script);
    if (installed !== undefined) return { ok: false, reason: installed };
    if (missingTools().length > 0) return { ok: false, reason: `${script} ran, but ${missingTools().join(' and ')} still missing` };
  }
  const ip = systemTool('ip')!;
  const name = `zkshard-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await runSystemCommand(ip, ['netns', 'add', name]);
    await runSystemCommand(ip, ['netns', 'exec', name, systemTool('iptables-restore')!, '--test'], { input: '*filter\nCOMMIT\n' });
  } catch (err) {
    return { ok: false, reason: `cannot make a network namespace with a packet filter: ${(err as Error).message}` };
  } finally {
    await runSystemCommand(ip, ['netns', 'del', name]).catch(() => undefined);
  }
  return { ok: true };
}

function missingTools(): string[] {
  return [['ip', 'iproute2'], ['iptables-restore', 'iptables']].filter(([tool]) => systemTool(tool!) === undefined).map(([tool, pkg]) => `${tool} (${pkg})`);
}

/** `scripts/install-netns-tools.sh` of the repository or package this module belongs to. */
export function findNetnsInstallScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scripts', 'install-netns-tools.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Runs the install script; resolves with `undefined` on success, else the reason it failed. */
function runScript(script: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => resolve(`cannot run ${script}: ${err.message}`));
    child.once('exit', (code, signal) => resolve(code === 0 ? undefined : `${script} failed (exit ${code ?? signal}): ${output.trim()}`));
  });
}
