import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { fourLetterWord } from '../../src/zk/four-letter-word.js';

const run = promisify(execFile);

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const os = await run('uname', ['-sr']).then((r) => r.stdout.trim()).catch(() => process.platform);
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, os };
}

/** The version a ZooKeeper server reports in `srvr` ("3.8.4-..."), or "unknown". */
export async function zooKeeperVersion(host: string, port: number): Promise<string> {
  const srvr = await fourLetterWord(host, port, 'srvr').catch(() => '');
  return /Zookeeper version: ([^,\s-]+)/.exec(srvr)?.[1] ?? 'unknown';
}
