import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sortBySequence, type ZkPaths } from '../zk/zk-paths.js';
import { NoNodeError, ZkClosedError } from '../zk/zk-errors.js';
import { RefreshLoop, type RetryTiming } from '../zk/refresh-loop.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';

export interface LeaderLatchEvents {
  /** This member became leader (edge, never repeated). */
  isLeader: [];
  /** This member stopped being leader (edge). */
  notLeader: [];
  /** Our own membership node is gone: only a lost session does that. */
  memberGone: [];
}

/**
 * Leader election over the membership nodes: the member with the lowest sequence leads; every
 * other member watches only its predecessor (no herd on a change). Emits edges only.
 */
export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  private leader = false;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private watchedPredecessor: string | undefined;
  private readonly loop: RefreshLoop;

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly memberName: string,
    private readonly log: Logger,
    retry?: RetryTiming,
  ) {
    super();
    this.loop = new RefreshLoop(() => this.checkOnce(), {
      ...retry,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => this.log.warn({ err, delayMs }, 'election check failed; retrying'),
    });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The predecessor this member watches (undefined when leader). */
  get predecessor(): string | undefined {
    return this.watchedPredecessor;
  }

  async start(): Promise<void> {
    if (this.state !== 'latent') throw new IllegalStateError(`election: start() in state ${this.state}`);
    this.state = 'started';
    await this.loop.request();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.loop.close();
    this.setLeader(false);
    this.removeAllListeners();
  }

  private readonly onPredecessorChange = (): void => {
    void this.loop.request();
  };

  private async checkOnce(): Promise<void> {
    const members = sortBySequence(await this.zk.getChildren(this.paths.workers));
    if (this.state !== 'started') return; // closed meanwhile
    const index = members.indexOf(this.memberName);
    if (index < 0) {
      this.log.error({ member: this.memberName }, 'own membership node is gone');
      this.setLeader(false);
      this.emit('memberGone');
      return;
    }
    if (index === 0) {
      this.watchedPredecessor = undefined;
      this.setLeader(true);
      return;
    }
    this.setLeader(false);
    const predecessor = members[index - 1]!;
    try {
      // getData rather than exists: a watch on a missing node would linger.
      await this.zk.getData(this.paths.member(predecessor), this.onPredecessorChange);
      if (this.watchedPredecessor !== predecessor) this.log.debug({ predecessor }, 'watching predecessor');
      this.watchedPredecessor = predecessor;
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      void this.loop.request(); // predecessor left between the two reads: check again
    }
  }

  private setLeader(value: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    this.log.info({ member: this.memberName, leader: value }, value ? 'became leader' : 'no longer leader');
    this.emit(value ? 'isLeader' : 'notLeader');
  }
}
