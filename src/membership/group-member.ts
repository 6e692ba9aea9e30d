import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { MEMBER_PREFIX, sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, ZkError, isConnectionTrouble } from '../zk/zk-errors.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { encodeMemberInfo, type MemberInfo } from './member-info.js';
import { NodeCache } from '../zk/node-cache.js';
import type { RetryTiming } from '../zk/refresh-loop.js';

/** Writes of an update made at most when fences keep moving our node's version under it. */
const UPDATE_TRIES = 5;

/**
 * This worker's membership: one EPHEMERAL_SEQUENTIAL node under `/workers`, which is also its
 * ticket in the leader election. The node name carries a random token so that, if the create's
 * answer is lost, we can find the node we made instead of creating a duplicate (the create is
 * never retried blindly).
 */
export class GroupMember {
  private updating: Promise<unknown> = Promise.resolve();
  private nodeName: string | undefined;
  private info: MemberInfo;
  private version = 0;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private readonly token: string;
  /** Our member node, watched: the leader's fences and an operator's forced remove or reshard bump its version (`fenceVersion`). */
  private watched: NodeCache | undefined;
  /** Told whenever the known version of our member node moves up (see `onFenceMoved`). */
  private readonly fenceListeners: Array<(version: number, mzxid: bigint) => void> = [];
  /** Told of each of our own writes of the node (see `onOwnWrite`). */
  private readonly ownWriteListeners: Array<(mzxid: bigint) => void> = [];

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    info: MemberInfo,
    private readonly log: Logger,
    /** The random token of the member's name (8 hex digits; the simulation draws it from its seed). @default random bytes */
    token: string = randomBytes(4).toString('hex'),
    /** Timers and backoff of the watch on our own node. @default systemClock */
    private readonly retry?: RetryTiming,
  ) {
    this.info = info;
    this.token = token;
  }

  /** The member's node name, e.g. `m-3f9a1c2e-0000000007`. */
  get name(): string {
    if (!this.nodeName) throw new IllegalStateError('membership: not registered');
    return this.nodeName;
  }

  /** Whether the member node has been created (its `name` is known). */
  get registered(): boolean {
    return this.nodeName !== undefined;
  }

  get path(): string {
    return this.paths.member(this.name);
  }

  get sequence(): number {
    return sequenceOf(this.name);
  }

  get current(): MemberInfo {
    return this.info;
  }

  async start(): Promise<void> {
    if (this.state !== 'latent') throw new IllegalStateError(`membership: start() in state ${this.state}`);
    this.state = 'started';
    await this.zk.mkdirp(this.paths.workers);
    const prefix = `${MEMBER_PREFIX}${this.token}-`;
    try {
      const created = await this.zk.create(this.paths.member(prefix), encodeMemberInfo(this.info), 'ephemeralSequential');
      this.nodeName = created.slice(created.lastIndexOf('/') + 1);
    } catch (err) {
      if (!isConnectionTrouble(err)) throw err;
      // The create may have happened: look for our token before giving up.
      const mine = (await this.zk.getChildren(this.paths.workers)).find((n) => n.startsWith(prefix));
      if (!mine) throw err;
      this.nodeName = mine;
    }
    this.log.info({ member: this.nodeName, workerId: this.info.id, jobs: this.info.jobs }, 'registered as member');
    // The fence is followed as it moves, not only learned when a write it guards fails: a run
    // begun ahead of its instant checks it before its handler is entered (Executor).
    const watched = new NodeCache(this.zk, this.path, this.log, this.retry);
    this.watched = watched;
    watched.on('changed', (node) => {
      if (node && node.stat.version > this.version) {
        // Our own update's watch event comes before its answer; anything else is a fence (the leader's or an operator's).
        this.log.debug({ member: this.nodeName, from: this.version, to: node.stat.version }, 'member node version moved');
        this.advance(node.stat.version, node.stat.mzxid);
      }
    });
    await watched.start();
  }

  /** Changes what will be published, before `start()`. */
  prepare(patch: Partial<MemberInfo>): void {
    if (this.state !== 'latent') throw new IllegalStateError('membership: prepare() after start()');
    this.info = { ...this.info, ...patch };
  }

  /**
   * Publishes a change (e.g. `state: 'draining'`). Updates run one after the other, each on the
   * result of the previous one (concurrent ones would fail each other's version check).
   */
  update(patch: Partial<MemberInfo>): Promise<void> {
    const run = this.updating.then(async () => {
      const next = { ...this.info, ...patch };
      let stat;
      for (let tries = 1; ; tries++) {
        try {
          stat = await this.zk.setData(this.path, encodeMemberInfo(next), this.version);
          break;
        } catch (err) {
          // Only this worker writes what its node holds; the leader (moving items away from us)
          // and an operator's forced remove or reshard bump its version (see `fenceVersion`)
          // without changing it. Read the version and write again, a few times: at start-up the
          // leader may fence us at every one of its publishing multis.
          if (!(err instanceof BadVersionError) || tries >= UPDATE_TRIES) throw err;
          await this.refreshFence();
        }
      }
      this.info = next;
      for (const listener of this.ownWriteListeners) listener(stat.mzxid);
      this.advance(stat.version, stat.mzxid);
      this.log.info({ member: this.nodeName, state: next.state }, 'membership updated');
    });
    this.updating = run.catch(() => undefined);
    return run;
  }

  /**
   * The member node's data version as last known: the fence of this worker's runs. An operator's
   * forced `remove`/`reshard` bumps it in the transaction that takes runs out of our ledger, the
   * leader in the transaction that moves items of ours to another member; the node is watched, so
   * that bump is known here as soon as its watch event arrives.
   */
  fenceVersion(): number {
    return this.version;
  }

  /** Reads the member node's version again (after a write fenced by it failed). */
  async refreshFence(): Promise<number> {
    const found = await this.zk.getDataIfExists(this.path);
    if (found) this.advance(found.stat.version, found.stat.mzxid);
    return this.version;
  }

  /**
   * Tells `listener` of every move of our member node's version (with the zxid of the write that
   * made it): our own update, an operator's fence, or the leader's when it moves items away from
   * us (each begin checks the version).
   */
  onFenceMoved(listener: (version: number, mzxid: bigint) => void): void {
    this.fenceListeners.push(listener);
  }

  /**
   * Tells `listener` of every write of our member node by this worker (`update`), with its zxid:
   * each is checked against the version this worker knew, so the move it makes takes no run
   * (`FenceMoves`). Told before the move itself (`onFenceMoved`), unless the node's watch saw the
   * new version first.
   */
  onOwnWrite(listener: (mzxid: bigint) => void): void {
    this.ownWriteListeners.push(listener);
  }

  private advance(version: number, mzxid: bigint): void {
    if (version <= this.version) return;
    this.version = version;
    for (const listener of this.fenceListeners) listener(version, mzxid);
  }

  /** Deletes the membership node (leaving the group). Idempotent; tolerates a dead session. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started' && this.nodeName !== undefined;
    this.state = 'closed';
    this.watched?.close();
    if (!wasStarted || this.zk.signal.aborted) return;
    try {
      await this.zk.remove(this.path);
      this.log.info({ member: this.nodeName }, 'left the group');
    } catch (err) {
      if (err instanceof ZkError && err.code === 'ZK_NO_NODE') return;
      this.log.warn({ err, member: this.nodeName }, 'could not delete membership node; it goes with the session');
    }
  }
}
