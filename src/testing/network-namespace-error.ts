import { ZkshardError } from '../errors/zkshard-error.js';

/**
 * Thrown by the network-namespace test harness ({@link NetworkLab}, {@link NetworkNamespace}) when
 * a namespace, link, address or packet filter cannot be set up, changed or removed; or when the
 * harness cannot run here at all (not root, `ip`/`iptables` missing and not installable).
 * The message names the command and its output.
 */
export class NetworkNamespaceError extends ZkshardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETNS_FAILED', message, options);
  }
}
