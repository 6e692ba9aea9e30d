import type { Logger } from 'pino';
import { fireIdOf } from './job-context.js';
import type { AttemptOwner, EnterableAttempt } from './prepared-attempt.js';
import { RunAbort } from './run-abort.js';
import type { FireRequest } from './fire-request.js';

/** A run holding its item, from its begin until its release is written. */
export class ActiveRun implements AttemptOwner {
  /** The gate it waits at, until the gate opens, and its first attempt made ready meanwhile. */
  waiting: Gate | undefined;
  ready: EnterableAttempt | undefined;
  /** Its handler has ended; the run waits only for its release to be written. */
  releasing = false;
  /** When its first attempt was entered: monotonic ms (its duration), wall-clock ms (its history). */
  startedMs = 0;
  startedAt = 0;
  readonly abort = new RunAbort();
  readonly fireId: string;
  private logger: Logger | undefined;
  /** Its item is freed (its lane settled): the run is over, its release written or given up. */
  private over = false;
  private whenOver: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    readonly req: FireRequest,
    private readonly baseLog: Logger,
  ) {
    this.fireId = fireIdOf(req.job, req.fireTime, req.item);
  }

  /** It no longer waits at its gate: hands back the attempt made ready for it there. */
  leaveGate(): EnterableAttempt | undefined {
    const prepared = this.ready;
    this.waiting = undefined;
    this.ready = undefined;
    return prepared;
  }

  /** Settles once the run is over (`end`). Made only when asked (a drain): most runs end unwatched. */
  ended(): Promise<void> {
    if (this.over) return Promise.resolve();
    if (!this.whenOver) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.whenOver = { promise, resolve };
    }
    return this.whenOver.promise;
  }

  /** The run is over: its item freed. */
  end(): void {
    this.over = true;
    this.whenOver?.resolve();
  }

  /** Its logger, made on first use: most runs log nothing. */
  log(): Logger {
    return (this.logger ??= this.baseLog.child({ job: this.req.job, item: this.req.item, fire: this.fireId }));
  }
}

/**
 * A fire instant still ahead of a batch of begun runs. The runs whose attempt could be made ready
 * at once (`ActiveRun.ready`) wait in `ready` and are entered one after another, in one loop, when
 * it opens; the others await `opened` (which settles after that loop).
 */
export interface Gate {
  opened: Promise<void>;
  ready: ActiveRun[];
}

export interface Lane {
  current?: ActiveRun | 'starting';
  /** The request being begun while `current` is 'starting'. */
  starting?: FireRequest;
  queue: FireRequest[];
}
