import { createConnection } from 'node:net';
import { ZkshardError } from '../errors/zkshard-error.js';

/** What `srvr` reports as `Mode:`. A server that is not serving (no quorum, still loading) has none. */
export type ZooKeeperMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/** Thrown by {@link fourLetterWord} when the server cannot be reached or does not answer in time. */
export class FourLetterWordError extends ZkshardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZK_4LW_FAILED', message, options);
  }
}

/**
 * Sends a ZooKeeper four-letter word (`ruok`, `srvr`, `stat`, `mntr`, `conf`, `cons`, `wchs`...) and
 * resolves with the server's whole answer, read until the server closes the connection.
 * The command must be enabled by the server's `4lw.commands.whitelist`; the servers that
 * `src/testing/` starts enable all of them. A frozen server accepts the connection but never
 * answers: the timeout covers connecting and reading.
 * @param timeoutMs @default 2000
 */
export function fourLetterWord(host: string, port: number, command: string, timeoutMs = 2000): Promise<string> {
  if (!/^[a-z]{4}$/.test(command)) {
    return Promise.reject(new RangeError(`four-letter word must be 4 lowercase letters, got ${JSON.stringify(command)}`));
  }
  return new Promise((resolve, reject) => {
    const where = `${host}:${port}`;
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = createConnection({ host, port });
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(
      () => finish(new FourLetterWordError(`'${command}' to ${where}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (err) => finish(new FourLetterWordError(`'${command}' to ${where}: ${err.message}`, { cause: err })));
  });
}

/** True when the server answers `ruok` with `imok` (it runs; it may still not serve requests). */
export async function isAlive(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  try {
    return (await fourLetterWord(host, port, 'ruok', timeoutMs)) === 'imok';
  } catch {
    return false;
  }
}

/**
 * The server's mode from `srvr`, or `undefined` when it does not serve requests (no quorum yet,
 * election running, still starting), does not answer in time, or cannot be reached.
 */
export async function serverMode(host: string, port: number, timeoutMs = 1000): Promise<ZooKeeperMode | undefined> {
  try {
    return parseSrvr(await fourLetterWord(host, port, 'srvr', timeoutMs)).mode;
  } catch {
    return undefined;
  }
}

/** `srvr`/`stat` answer as `key: value` pairs, plus the parsed `mode` when there is one. */
export interface SrvrInfo {
  mode: ZooKeeperMode | undefined;
  /** Every `Key: value` line, keys as printed (`Zxid`, `Node count`, `Latency min/avg/max`...). */
  fields: Record<string, string>;
}

const MODES: readonly ZooKeeperMode[] = ['standalone', 'leader', 'follower', 'observer', 'read-only'];

/** Parses the answer to `srvr` (or `stat`); a "not currently serving requests" answer has no mode. */
export function parseSrvr(text: string): SrvrInfo {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][^:]*):\s*(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!;
  }
  const mode = fields['Mode'];
  return { mode: MODES.find((x) => x === mode), fields };
}

/**
 * Parses the answer to `mntr` (one `zk_name<TAB>value` per line). Numeric values become numbers,
 * others (`zk_version`, `zk_server_state`) stay strings.
 */
export function parseMntr(text: string): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const key = line.slice(0, tab).trim();
    const raw = line.slice(tab + 1).trim();
    const num = Number(raw);
    out[key] = raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return out;
}

/**
 * Whether the server on `host:port` is the one whose data lives in `dataDir`, from `conf`: tells
 * our server from another ZooKeeper that happens to listen on the same port.
 */
export async function servesDataDir(host: string, port: number, dataDir: string, timeoutMs = 1000): Promise<boolean> {
  const conf = await fourLetterWord(host, port, 'conf', timeoutMs);
  return conf.split('\n').some((line) => line.startsWith('dataDir=') && line.slice('dataDir='.length).startsWith(dataDir));
}
