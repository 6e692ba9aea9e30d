import type { Logger } from 'pino';
import type { ZkClient } from './zk-client.js';
import { isOpenAcl, OPEN_ACL, type ZkAcl } from './zk-acl.js';
import { NoNodeError } from './zk-errors.js';

/**
 * Decides which ACL a client with credentials gives the nodes it creates, from the namespace
 * root's ACL, and follows it while the session lasts:
 *
 * - root open to anyone (a fleet being migrated): `world:anyone`, like the fleet's workers that
 *   have no credentials yet, so that none of them is locked out of a node (ElasticJob's trap);
 * - root missing or secured: the policy.
 *
 * `zkctl acl apply` secures the root last and then touches its data: the watch set here fires,
 * and from then on every node is created with the policy. Closes itself when the session ends.
 */
export class NamespaceAclFollower {
  private closed = false;
  private open = false;

  constructor(
    private readonly zk: ZkClient,
    private readonly root: string,
    private readonly policy: readonly ZkAcl[],
    private readonly log: Logger,
  ) {}

  /** Whether the namespace was open at the last look. */
  get namespaceOpen(): boolean {
    return this.open;
  }

  /** Reads the root's ACL once and sets the client's ACL; resolves when done. @throws NotAuthorizedError */
  async start(): Promise<void> {
    this.zk.signal.addEventListener('abort', () => this.close(), { once: true });
    await this.refresh();
  }

  close(): void {
    this.closed = true;
  }

  /** One watch at a time: a data watch while the root exists, an exists watch while it does not. */
  private async refresh(): Promise<void> {
    const watcher = () => void this.refresh().catch((err: unknown) => this.onError(err));
    for (;;) {
      if (this.closed) return;
      if ((await this.zk.getDataIfExists(this.root, watcher)) === null) {
        if ((await this.zk.exists(this.root, watcher)) !== null) continue; // created meanwhile: that watch fires once
        this.apply(false);
        return;
      }
      try {
        const { acl } = await this.zk.getAcl(this.root);
        this.apply(isOpenAcl(acl));
        return;
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    }
  }

  private apply(open: boolean): void {
    if (this.closed) return;
    const was = this.open;
    this.open = open;
    this.zk.useAcl(open ? OPEN_ACL : this.policy);
    if (open && !was) {
      this.log.warn({ root: this.root }, 'namespace is open to anyone: creating open nodes like the rest of the fleet until `zkctl acl apply` secures it');
    } else if (!open && was) {
      this.log.info({ root: this.root }, 'namespace secured: creating nodes with the ACL policy from now on');
    }
  }

  private onError(err: unknown): void {
    if (this.closed) return;
    this.log.warn({ err }, 'could not read the namespace ACL; keeping the current one');
  }
}
