import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkLab } from '../../src/testing/network-lab.js';
import { repoRoot } from '../../src/testing/worker-fleet.js';
import { runSystemCommand } from '../../src/testing/system-command.js';
import type { NetworkNamespace } from '../../src/testing/network-namespace.js';
import { netnsSupport, systemTool } from '../../src/testing/netns-support.js';
import { waitFor } from '../support/wait-for.js';

const support = await netnsSupport();

/**
 * A UDP peer inside a namespace: it sends a `beat` datagram to the host every 20 ms and prints
 * `got <payload>` for every datagram it receives (after `ready`, once bound).
 */
function startPeer(ns: NetworkNamespace, host: string, hostPort: number): { heard: () => string[]; stop: () => void; ready: Promise<void> } {
  const code = `const s=require('node:dgram').createSocket('udp4');s.on('message',(m)=>console.log('got '+m));` +
    `s.bind(7000,()=>{console.log('ready');setInterval(()=>s.send('beat',${hostPort},'${host}'),20)});`;
  const [file, ...args] = ns.command([process.execPath, '-e', code]);
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  return {
    heard: () => output.split('\n').filter((l) => l.startsWith('got ')).map((l) => l.slice(4)),
    stop: () => child.kill('SIGKILL'),
    ready: waitFor(() => output.includes('ready'), { timeoutMs: 10_000, message: 'peer bound' }).then(() => undefined),
  };
}

describe.skipIf(!support.ok)('NetworkLab and NetworkNamespace (root, ip, iptables)', () => {
  let lab: NetworkLab | undefined;
  let socket: Socket | undefined;
  const stops: Array<() => void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    socket?.close();
    socket = undefined;
    await lab?.close();
  });

  it('connects namespaces and the host on one bridge, cuts silently both ways or one way, heals, and removes everything on close', async () => {
    lab = new NetworkLab();
    await lab.start();
    const a = await lab.addNamespace('a');
    expect(a.address).not.toBe(lab.hostAddress);
    expect(existsSync(`/run/netns/${a.name}`)).toBe(true);
    const s = createSocket('udp4');
    socket = s;
    await new Promise<void>((resolve) => s.bind(0, lab!.hostAddress, resolve));
    let beats = 0;
    s.on('message', () => beats++);
    const peer = startPeer(a, lab.hostAddress, s.address().port);
    stops.push(peer.stop);
    await peer.ready;
    let sent = 0;
    const ping = (tag: string) => s.send(`${tag}-${++sent}`, 7000, a.address);
    const heard = (tag: string) => peer.heard().filter((p) => p.startsWith(`${tag}-`)).length;

    // Healthy: both ways.
    await waitFor(() => { ping('ok'); return heard('ok') > 0 && beats > 0; }, { timeoutMs: 5000, intervalMs: 50, message: 'both ways' });

    // `in`: what the namespace sends still arrives; what is sent to it is dropped.
    await a.cut([lab.hostAddress], 'in');
    expect(a.cuts).toEqual([{ peers: [lab.hostAddress], direction: 'in' }]);
    let from = beats;
    await waitFor(() => { ping('in'); return beats > from + 5; }, { timeoutMs: 5000, intervalMs: 50, message: 'beats through an in-only cut' });
    expect(heard('in')).toBe(0);

    // `out`: the other way round.
    await a.heal();
    await a.cut([lab.hostAddress], 'out');
    from = beats;
    await waitFor(() => { ping('out'); return heard('out') > 5; }, { timeoutMs: 5000, intervalMs: 50, message: 'pings through an out-only cut' });
    expect(beats).toBeLessThanOrEqual(from + 1); // at most one beat already on its way when the cut came

    // `both`: nothing either way; healed, everything flows again.
    await a.heal();
    await a.cut([lab.hostAddress]);
    for (let i = 0; i < 5; i++) ping('both');
    from = beats;
    await a.heal();
    expect(a.cuts).toEqual([]);
    await waitFor(() => { ping('healed'); return heard('healed') > 0 && beats > from + 1; }, { timeoutMs: 5000, intervalMs: 50, message: 'both ways after heal' });
    expect(heard('both')).toBe(0);

    const names = lab.namespaces.map((n) => n.name);
    peer.stop();
    await lab.close();
    await lab.close(); // idempotent
    expect(names.filter((n) => existsSync(`/run/netns/${n}`))).toEqual([]);
  });

  it('removes its namespaces when its process exits without close(), and a killed process\'s are removed by the next lab', async () => {
    const labModule = join(repoRoot(), 'dist', 'src', 'testing', 'network-lab.js');
    expect(existsSync(labModule), `${labModule} missing: npm run build first`).toBe(true);
    // A child makes a lab with one namespace, prints the names, then exits (or waits to be killed).
    const child = (thenExit: boolean) => {
      const code = `import { NetworkLab } from ${JSON.stringify(labModule)};` +
        `const lab = new NetworkLab(); await lab.start(); const ns = await lab.addNamespace('x');` +
        `console.log(JSON.stringify({ names: [ns.name, ...lab.namespaces.map((n) => n.name)], host: lab.hostAddress }));` +
        (thenExit ? 'process.exit(0);' : 'setInterval(() => {}, 1000);');
      const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      const printed = waitFor(() => out.includes('}'), { timeoutMs: 20_000, message: 'the child\'s lab' }).then(() => JSON.parse(out) as { names: string[]; host: string });
      return { proc, exited, printed };
    };
    const hostHas = async (address: string) => (await runSystemCommand(systemTool('ip')!, ['-o', '-4', 'addr', 'show'])).includes(`inet ${address}/`);

    const exiting = child(true);
    const made = await exiting.printed;
    await exiting.exited;
    expect(made.names.filter((n) => existsSync(`/run/netns/${n}`))).toEqual([]);
    expect(await hostHas(made.host)).toBe(false);

    const killed = child(false);
    const left = await killed.printed;
    killed.proc.kill('SIGKILL');
    await killed.exited;
    expect(left.names.every((n) => existsSync(`/run/netns/${n}`))).toBe(true); // SIGKILL runs no exit handler
    lab = new NetworkLab();
    await lab.start();
    expect(left.names.filter((n) => existsSync(`/run/netns/${n}`))).toEqual([]);
    await waitFor(async () => !(await hostHas(left.host)), { timeoutMs: 10_000, message: 'the killed lab\'s host link to go with its hub' });
  });

  it('rejects bad input with a specific error and changes nothing', async () => {
    lab = new NetworkLab();
    expect(() => new NetworkLab({ subnet: 300 })).toThrow(/subnet must be an integer in 1\.\.254.*got 300/);
    await expect(lab.addNamespace('a')).rejects.toThrow(/before start/);
    await lab.start();
    await expect(lab.addNamespace('Bad Name')).rejects.toThrow(/label must match .* got "Bad Name"/);
    const a = await lab.addNamespace('a');
    await expect(lab.addNamespace('a')).rejects.toThrow(/labelled "a" exists already/);
    await expect(a.cut([])).rejects.toThrow(/at least one peer address/);
    await expect(a.cut(['10.213.1.300'])).rejects.toThrow(/IPv4 addresses, got \["10\.213\.1\.300"\]/);
    await expect(a.cut([lab.hostAddress], 'sideways' as 'in')).rejects.toThrow(/direction must be one of both, in, out, got "sideways"/);
    expect(a.cuts).toEqual([]);
    expect(lab.namespaces.map((n) => n.label)).toEqual(['a']);
  });
});

describe.skipIf(support.ok)('NetworkLab (skipped)', () => {
  it.skip(`network namespaces unavailable: ${support.ok ? '' : support.reason}`, () => {});
});
