import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { encodeJson } from '../model/json-codec.js';
import { readStageRecord, STAGE_NAME, type StageRecord } from '../model/stage-record.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { ZkTransactionError } from '../zk/zk-transaction.js';
import { BadVersionError } from '../zk/zk-errors.js';
import { systemClock, type Clock } from '../clock/clock.js';

export { STAGE_NAME, type StageRecord };

/** The run ledger's fences (see `RunLedger.fenceOf`): what a stage write checks. */
export interface StageFences {
  fenceOf(job: string, item: number): { path: string; version: number } | undefined;
  confirmFence(job: string, item: number, fireTime: Date): Promise<boolean>;
}

/** What every run's stages of one store share. */
interface StageSetting {
  readonly zk: ZkSession;
  readonly paths: ZkPaths;
  readonly fences: StageFences | undefined;
  /** Whose time a completed stage is recorded with (`done[name].at`). */
  readonly clock: Pick<Clock, 'now'>;
}

/**
 * The stages of one run (one fire of one item). A completed stage is recorded in ZooKeeper, only
 * while this run still holds the item — checked as releases are, by the run's fence (our member
 * node's version, which a forced remove or reshard moves when it takes the run from our ledger;
 * then our ledger says whether the run is still ours; not checked when runs are not fenced, in
 * tests of the stages alone) — and skipped when the fire runs again (retry, or a re-run on another worker after failover).
 */
export class RunStages {
  private loaded: { record: StageRecord; version: number } | undefined;
  /** The stage writes, one after another (made with the first: most runs use no stage). */
  private writing: Promise<unknown> | undefined;

  constructor(
    private readonly setting: StageSetting,
    private readonly job: string,
    private readonly item: number,
    private readonly fireId: string,
    private readonly fireTime: Date,
  ) {}

  /** Names of the stages this fire completed so far. */
  async completed(): Promise<string[]> {
    return Object.keys((await this.load()).record.done);
  }

  /** Names of the stages this fire completed, as far as this run read or wrote them (none when it never used stages). */
  get completedSoFar(): string[] {
    return Object.keys(this.loaded?.record.done ?? {});
  }

  /** Runs `fn` unless this fire completed stage `name`; then returns its recorded result. */
  async stage<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    checkName(name);
    const done = (await this.load()).record.done[name];
    if (done) return done.result as T;
    const result = await fn();
    await this.complete(name, result);
    return result;
  }

  /** Records stage `name` as completed (with a JSON result), fenced as the run's other writes. */
  complete(name: string, result?: unknown): Promise<void> {
    checkName(name);
    const next = (this.writing ?? Promise.resolve()).then(() => this.write(name, result));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(name: string, result: unknown): Promise<void> {
    const loaded = await this.load();
    const { zk, paths, fences, clock } = this.setting;
    const path = paths.stages(this.job, this.item);
    const record: StageRecord = {
      fireId: this.fireId,
      done: { ...loaded.record.done, [name]: { at: new Date(clock.now()).toISOString(), result: result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown) } },
    };
    for (let tries = 0; ; tries++) {
      // Held while our member node is at the run's fence (a forced operation that takes the run
      // moves it; then `confirmFence` asks our ledger); unfenced (tests of the stages alone), not
      // checked.
      const fence = fences?.fenceOf(this.job, this.item);
      const tx = zk.transaction();
      if (fence) tx.check(fence.path, fence.version);
      const first = fence ? 1 : 0;
      if (loaded.version < 0) tx.create(path, encodeJson(record));
      else tx.setData(path, encodeJson(record), loaded.version);
      try {
        const out = await zk.commit(tx);
        this.loaded = { record, version: out[first]?.stat?.version ?? 0 };
        return;
      } catch (err) {
        if (!(err instanceof ZkTransactionError) || err.failedIndex >= first) throw err;
        // The fence moved: our own member update, or a forced operation that took the run.
        if (tries === 0 && fence && err.reason instanceof BadVersionError && (await fences!.confirmFence(this.job, this.item, this.fireTime))) continue;
        throw new ZkshardError('STAGE_FENCED', `stage "${name}": this run no longer holds item ${this.item} of ${this.job}; stage not recorded`, { cause: err });
      }
    }
  }

  private async load(): Promise<{ record: StageRecord; version: number }> {
    if (!this.loaded) {
      const path = this.setting.paths.stages(this.job, this.item);
      const found = await this.setting.zk.getDataIfExists(path);
      // Malformed: which stages this fire completed is unknown, so none is run (the attempt fails).
      const read = readStageRecord(found?.data, path);
      if (!read.ok) throw read.error;
      const record = read.value;
      this.loaded = { record: record && record.fireId === this.fireId ? record : { fireId: this.fireId, done: {} }, version: found ? found.stat.version : -1 };
    }
    return this.loaded;
  }
}

/**
 * Makes a `RunStages` per run; `fences`: the run ledger's (without, stage writes are not fenced);
 * `clock`: whose time a completed stage is recorded with (the simulation's, in the simulation).
 */
export class StageStore {
  private readonly setting: StageSetting;

  constructor(zk: ZkSession, paths: ZkPaths, fences?: StageFences, clock: Pick<Clock, 'now'> = systemClock) {
    this.setting = { zk, paths, fences, clock };
  }

  forRun(job: string, item: number, fireId: string, fireTime: Date): RunStages {
    return new RunStages(this.setting, job, item, fireId, fireTime);
  }
}

function checkName(name: unknown): void {
  if (typeof name !== 'string' || !STAGE_NAME.test(name)) {
    throw new ZkshardError('STAGE_INVALID', `stage name must match ${STAGE_NAME.source}, got ${JSON.stringify(name)}`);
  }
}
