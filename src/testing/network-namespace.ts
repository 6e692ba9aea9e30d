import { isIPv4 } from 'node:net';
import { runSystemCommand } from './system-command.js';

/** Which packets a cut drops, seen from inside the namespace. */
export type CutDirection = 'both' | 'in' | 'out';
export const CUT_DIRECTIONS: readonly CutDirection[] = ['both', 'in', 'out'];

/** One cut in force: packets between this namespace and `peers` dropped in `direction`. */
export interface Cut {
  peers: readonly string[];
  direction: CutDirection;
}

/** The tools a namespace is driven with (found once by its {@link NetworkLab}). */
export interface NetnsTools {
  ip: string;
  iptablesRestore: string;
}

/**
 * One network namespace of a {@link NetworkLab}: a loopback and one interface (`eth0`) with
 * `address` on the lab's bridge, through which it reaches the host and every other namespace of
 * the lab. Processes run inside it through {@link command} (`ip netns exec`, which execs: the pid
 * you get is the process's own). {@link cut} drops packets to and/or from given addresses with
 * iptables inside the namespace, silently (no reset, no ICMP): a partition, while every process
 * keeps running. {@link heal} removes every cut. Made by `NetworkLab.addNamespace`, removed by
 * `NetworkLab.close()`.
 */
export class NetworkNamespace {
  readonly #tools: NetnsTools;
  #cuts: Cut[] = [];
  #changing: Promise<void> = Promise.resolve();

  /** @internal Use `NetworkLab.addNamespace`. */
  constructor(
    /** Name as `ip netns list` shows it. */
    readonly name: string,
    /** The label it was added with (`NetworkLab.namespace(label)`). */
    readonly label: string,
    /** Its IPv4 address on the lab's bridge. */
    readonly address: string,
    tools: NetnsTools,
  ) {
    this.#tools = tools;
  }

  /** The cuts in force, oldest first. */
  get cuts(): readonly Cut[] {
    return this.#cuts;
  }

  /** What runs a command inside this namespace when put before its argv: `ip netns exec <name>`. */
  get execPrefix(): readonly string[] {
    return [this.#tools.ip, 'netns', 'exec', this.name];
  }

  /** argv that runs `argv` inside this namespace: `ip netns exec <name> ...argv`. */
  command(argv: readonly string[]): string[] {
    if (argv.length === 0) throw new RangeError(`NetworkNamespace ${this.label}: command() needs a program to run, got an empty argv`);
    return [...this.execPrefix, ...argv];
  }

  /**
   * Drops every packet between this namespace and `peers` (IPv4 addresses): `both` ways, only
   * those coming `in`, or only those going `out`. Rules are added in one `iptables-restore`
   * (atomic) and add to the cuts already in force. Rejects bad input with a RangeError and
   * changes nothing.
   */
  cut(peers: readonly string[], direction: CutDirection = 'both'): Promise<void> {
    if (!Array.isArray(peers) || peers.length === 0) {
      return Promise.reject(new RangeError(`NetworkNamespace ${this.label}: cut() needs at least one peer address, got ${JSON.stringify(peers)}`));
    }
    const bad = peers.filter((p) => typeof p !== 'string' || !isIPv4(p));
    if (bad.length > 0) {
      return Promise.reject(new RangeError(`NetworkNamespace ${this.label}: cut() peers must be IPv4 addresses, got ${JSON.stringify(bad)}`));
    }
    if (!CUT_DIRECTIONS.includes(direction)) {
      return Promise.reject(new RangeError(`NetworkNamespace ${this.label}: cut() direction must be one of ${CUT_DIRECTIONS.join(', ')}, got ${JSON.stringify(direction)}`));
    }
    const rules = peers.flatMap((peer) => [
      ...(direction === 'out' ? [] : [`-A INPUT -s ${peer}/32 -j DROP`]),
      ...(direction === 'in' ? [] : [`-A OUTPUT -d ${peer}/32 -j DROP`]),
    ]);
    return this.#change(async () => {
      await this.#restore(['--noflush'], ['*filter', ...rules, 'COMMIT']);
      this.#cuts.push({ peers: [...peers], direction });
    });
  }

  /** Removes every cut (flushes the namespace's filter table). Resolves at once when none is in force. */
  heal(): Promise<void> {
    return this.#change(async () => {
      if (this.#cuts.length === 0) return;
      await this.#restore([], ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT']);
      this.#cuts = [];
    });
  }

  /** Changes run one after the other, so `cuts` always matches the rules in force. */
  #change(fn: () => Promise<void>): Promise<void> {
    const next = this.#changing.then(fn);
    this.#changing = next.catch(() => undefined);
    return next;
  }

  async #restore(flags: readonly string[], lines: readonly string[]): Promise<void> {
    await runSystemCommand(this.#tools.ip, ['netns', 'exec', this.name, this.#tools.iptablesRestore, ...flags], { input: `${lines.join('\n')}\n` });
  }
}
