import { randomBytes, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { onProcessExit } from './exit-cleanup.js';
import { NetworkNamespace, type NetnsTools } from './network-namespace.js';
import { NetworkNamespaceError } from './network-namespace-error.js';
import { netnsSupport, systemTool } from './netns-support.js';
import { runSystemCommand } from './system-command.js';

/** Options of a {@link NetworkLab}. */
export interface NetworkLabOptions {
  /**
   * Third octet of the lab's subnet `10.213.<subnet>.0/24`, a block of our own test hosts that is
   * never routed anywhere. @default a subnet no interface of the host uses, picked by `start()`
   */
  subnet?: number;
}

/** Every namespace and interface name of a lab starts with this, then the owner's pid. */
export const NETWORK_LAB_PREFIX = 'zkshard-';
const NAME_PATTERN = /^zkshard-(\d+)-[0-9a-f]{6}-/;
const LABEL_PATTERN = /^[a-z0-9][a-z0-9-]{0,19}$/;
/** Host addresses .2 to .254 of the /24 (.1 is the host's). */
const MAX_NAMESPACES = 253;

/**
 * A private network for partition tests: a hub namespace holding a Linux bridge, the host attached
 * to it by one veth pair (`hostAddress`, `10.213.<subnet>.1/24`), and any number of namespaces
 * ({@link NetworkNamespace}, `.2`, `.3`, ...) attached the same way. Everything on the bridge
 * reaches everything else at layer 2: no routing, no change to the host's sysctls or its packet
 * filter. Servers that namespaced processes must reach listen on `hostAddress` (host) or on a
 * namespace's address (run inside it).
 *
 * Needs root, `ip` and `iptables` (see {@link netnsSupport}). The constructor does no I/O;
 * `start()` builds the hub (and removes namespaces left by dead processes); `close()` removes every
 * namespace and link of the lab (idempotent), and so does process exit. Processes still running in
 * a removed namespace keep running, cut off from everything: stop them before `close()`.
 *
 * ```ts
 * const lab = new NetworkLab();
 * await lab.start();
 * const a = await lab.addNamespace('worker-a');
 * spawn(a.command([process.execPath, 'worker.js'])[0], a.command([...]).slice(1));
 * await a.cut([lab.hostAddress]);   // silently, both ways
 * await a.heal();
 * await lab.close();
 * ```
 */
export class NetworkLab {
  readonly #options: NetworkLabOptions;
  readonly #tag = randomBytes(3).toString('hex');
  #tools: NetnsTools | undefined;
  #subnet: number | undefined;
  #namespaces: NetworkNamespace[] = [];
  #made: string[] = [];
  #hostLink: string | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #adding: Promise<unknown> = Promise.resolve();
  #unregisterExit: (() => void) | undefined;

  constructor(options: NetworkLabOptions = {}) {
    if (options.subnet !== undefined && (!Number.isInteger(options.subnet) || options.subnet < 1 || options.subnet > 254)) {
      throw new RangeError(`NetworkLab: subnet must be an integer in 1..254 (10.213.<subnet>.0/24), got ${options.subnet}`);
    }
    this.#options = options;
  }

  /** The host's address on the lab's bridge: servers on the host listen here. Known after `start()`. */
  get hostAddress(): string {
    return `${this.#prefix()}.1`;
  }

  /** `10.213.<subnet>.0/24`. Known after `start()`. */
  get cidr(): string {
    return `${this.#prefix()}.0/24`;
  }

  /** The namespaces added so far, in order. */
  get namespaces(): readonly NetworkNamespace[] {
    return this.#namespaces;
  }

  /** The namespace added with `label`. */
  namespace(label: string): NetworkNamespace {
    const ns = this.#namespaces.find((n) => n.label === label);
    if (ns === undefined) throw new RangeError(`NetworkLab: no namespace labelled ${JSON.stringify(label)} (have ${JSON.stringify(this.#namespaces.map((n) => n.label))})`);
    return ns;
  }

  /**
   * Builds the hub and the host's link to it. Rejects with a {@link NetworkNamespaceError} when the
   * harness cannot run here (the reason says why). Concurrent calls share one start.
   */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new IllegalStateError('NetworkLab: start() after close()'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const support = await netnsSupport();
    if (!support.ok) throw new NetworkNamespaceError(`NetworkLab: cannot run here: ${support.reason}`);
    const tools: NetnsTools = { ip: systemTool('ip')!, iptablesRestore: systemTool('iptables-restore')! };
    this.#tools = tools;
    await removeStaleNamespaces(tools.ip);
    this.#subnet = this.#options.subnet ?? (await pickFreeSubnet(tools.ip));
    this.#unregisterExit = onProcessExit(() => this.#removeAllSync(), 'cleanup');
    const hub = this.#name('hub');
    const hostLink = `zks${this.#tag}`;
    await this.#ip(['netns', 'add', hub]);
    this.#made.push(hub);
    await this.#ip(['-n', hub, 'link', 'set', 'lo', 'up']);
    await this.#ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    await this.#ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    await this.#ip(['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'host', 'netns', hub]);
    this.#hostLink = hostLink;
    await this.#ip(['-n', hub, 'link', 'set', 'host', 'master', 'br0', 'up']);
    await this.#ip(['addr', 'add', `${this.hostAddress}/24`, 'dev', hostLink]);
    await this.#ip(['link', 'set', hostLink, 'up']);
  }

  /**
   * Adds a namespace labelled `label` (`[a-z0-9][a-z0-9-]{0,19}`, unique in the lab) with the next
   * free address, attached to the bridge, loopback up. Bad input is rejected and changes nothing.
   */
  addNamespace(label: string): Promise<NetworkNamespace> {
    if (typeof label !== 'string' || !LABEL_PATTERN.test(label)) {
      return Promise.reject(new RangeError(`NetworkLab: a namespace label must match ${LABEL_PATTERN}, got ${JSON.stringify(label)}`));
    }
    const added = this.#adding.then(() => this.#add(label));
    this.#adding = added.catch(() => undefined);
    return added;
  }

  async #add(label: string): Promise<NetworkNamespace> {
    if (this.#closing) throw new IllegalStateError('NetworkLab: addNamespace() after close()');
    if (this.#starting === undefined) throw new IllegalStateError('NetworkLab: addNamespace() before start()');
    await this.#starting;
    if (this.#namespaces.some((n) => n.label === label)) throw new RangeError(`NetworkLab: a namespace labelled ${JSON.stringify(label)} exists already`);
    const index = this.#namespaces.length + 1;
    if (index > MAX_NAMESPACES) throw new RangeError(`NetworkLab: at most ${MAX_NAMESPACES} namespaces fit the /24, adding ${JSON.stringify(label)}`);
    const name = this.#name(label);
    const address = `${this.#prefix()}.${index + 1}`;
    const hub = this.#name('hub');
    const port = `n${index}`;
    await this.#ip(['netns', 'add', name]);
    this.#made.push(name);
    await this.#ip(['-n', name, 'link', 'set', 'lo', 'up']);
    await this.#ip(['-n', hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
    await this.#ip(['-n', hub, 'link', 'set', port, 'master', 'br0', 'up']);
    await this.#ip(['-n', name, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await this.#ip(['-n', name, 'link', 'set', 'eth0', 'up']);
    const ns = new NetworkNamespace(name, label, address, this.#tools!);
    this.#namespaces.push(ns);
    return ns;
  }

  /** Removes every namespace of the lab and the host's link. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await this.#adding;
    const ip = this.#tools?.ip;
    if (ip === undefined) return;
    const errors: string[] = [];
    // The host end goes with the hub, but only once the kernel gets round to it: delete it now.
    if (this.#hostLink !== undefined) await runSystemCommand(ip, ['link', 'del', this.#hostLink]).catch((err: Error) => errors.push(err.message));
    for (const name of [...this.#made].reverse()) {
      await runSystemCommand(ip, ['netns', 'del', name]).catch((err: Error) => errors.push(err.message));
    }
    this.#made = [];
    this.#hostLink = undefined;
    this.#unregisterExit?.();
    if (errors.length > 0) throw new NetworkNamespaceError(`NetworkLab: could not remove everything: ${errors.join('; ')}`);
  }

  #removeAllSync(): void {
    const ip = this.#tools?.ip;
    if (ip === undefined) return;
    if (this.#hostLink !== undefined) spawnSync(ip, ['link', 'del', this.#hostLink], { timeout: 5000, stdio: 'ignore' });
    for (const name of [...this.#made].reverse()) spawnSync(ip, ['netns', 'del', name], { timeout: 5000, stdio: 'ignore' });
  }

  #name(label: string): string {
    return `${NETWORK_LAB_PREFIX}${process.pid}-${this.#tag}-${label}`;
  }

  #prefix(): string {
    if (this.#subnet === undefined) throw new IllegalStateError('NetworkLab: the subnet is picked by start(); call it first');
    return `10.213.${this.#subnet}`;
  }

  async #ip(args: readonly string[]): Promise<void> {
    await runSystemCommand(this.#tools!.ip, args);
  }
}

/** A third octet for `10.213.x.0/24` that no interface of the host has an address in. */
async function pickFreeSubnet(ip: string): Promise<number> {
  const used = new Set<number>();
  for (const m of (await runSystemCommand(ip, ['-o', '-4', 'addr', 'show'])).matchAll(/inet 10\.213\.(\d+)\./g)) used.add(Number(m[1]));
  const start = randomInt(1, 255);
  for (let i = 0; i < 254; i++) {
    const candidate = ((start - 1 + i) % 254) + 1;
    if (!used.has(candidate)) return candidate;
  }
  throw new NetworkNamespaceError('NetworkLab: every subnet of 10.213.0.0/16 is in use on this host');
}

/** Deletes the namespaces of labs whose process is gone (killed before it could clean up). */
async function removeStaleNamespaces(ip: string): Promise<void> {
  const names = (await runSystemCommand(ip, ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n !== '');
  for (const name of names) {
    const owner = NAME_PATTERN.exec(name)?.[1];
    if (owner === undefined || processAlive(Number(owner))) continue;
    await runSystemCommand(ip, ['netns', 'del', name]).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
