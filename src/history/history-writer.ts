import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { sleep, systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import type { RecordedRun, RunRecorder } from '../executor/run-recorder.js';
import { HISTORY_DEFAULTS } from '../config/history-config.js';
import { pgErrorOf } from './history-db.js';
import { migrate } from './migrations.js';
import { expandable, noteRows, rowCountOf } from './note-rows.js';
import { dayOf, ensurePartitions } from './run-partitions.js';
import { applyRetention } from './run-retention.js';
import { insertRunRows, isContentError, type RunRow } from './run-insert.js';

export interface HistoryWriterOptions {
  pool: pg.Pool;
  log: Logger;
  /** Time and the flush and retention timers. @default systemClock */
  clock?: Clock;
  /** Records held while PostgreSQL is slow or down; beyond it they are dropped and counted. @default 100000 */
  bufferSize?: number;
  /** Buffered records are written at least this often. @default 1000 */
  flushIntervalMs?: number;
  /** Most rows per INSERT. @default 5000 */
  batchSize?: number;
  /** Retention passes (drop old day partitions, cap rows per job); none when absent. */
  retention?: { retentionDays: number; maxRowsPerJob: number; intervalMs?: number };
  /** Apply the schema migrations before the first write. @default true */
  migrate?: boolean;
}

interface Pending extends RunRow {
  /** A note being expanded: its rows not yet taken into the buffer (`run` is then the note). */
  rows?: Iterator<RecordedRun>;
  /** Rows of that note taken into the buffer so far. */
  given?: number;
}

/** Rows expanded from a note (a walk of its schedule each) per turn of the event loop. */
const ROWS_PER_TURN = 200;

/** How often a warning about dropped or refused records or an unreachable PostgreSQL is repeated. */
const WARN_EVERY_MS = 10_000;

/**
 * Writes the run history to PostgreSQL off the firing path. `record()` only appends to a bounded
 * buffer (never waits, never throws); a timer writes the buffer at least every `flushIntervalMs`,
 * and at once when a batch is full, as multi-row INSERTs of up to `batchSize` rows (one JSON
 * parameter, taken apart server-side by `json_to_recordset`; encoded a few hundred rows per turn of
 * the event loop). Every record carries an id,
 * and rows already there are skipped, so a batch written again after an unknown outcome is stored
 * once. A note of several missed or skipped fires whose job's schedule is known becomes one row
 * per fire (`note-rows.ts`), expanded as the batches are written, a few hundred rows per turn of
 * the event loop. While PostgreSQL is down the buffer holds the records and the writes are
 * retried every interval; beyond `bufferSize` records are dropped, counted (`dropped`,
 * `zkshard_history_dropped_total`) and warned about. A batch PostgreSQL refuses for what it holds
 * (`isContentError`) is split until the rows it refuses are found; those are set aside, counted
 * (`rejected`, `zkshard_history_rejected_total`) and warned about, and the rest is written, so one
 * bad row never holds up the buffer. `close()` writes what is left.
 */
export class HistoryWriter implements RunRecorder {
  readonly #opts: HistoryWriterOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #bufferSize: number;
  readonly #batchSize: number;
  #buffer: Pending[] = [];
  #state: 'latent' | 'started' | 'closing' | 'closed' = 'latent';
  #schemaReady: boolean;
  readonly #days = new Set<number>();
  #flushing: Promise<void> | undefined;
  #flushTimer: TimerHandle | undefined;
  #retentionTimer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  #dropped = 0;
  #written = 0;
  #unavailableSince: number | undefined;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  #droppedSinceWarn = 0;
  #lastDropWarnAt = Number.NEGATIVE_INFINITY;
  #droppedCounter: Counter | undefined;
  #rejected = 0;
  #rejectedSinceWarn = 0;
  #lastRejectWarnAt = Number.NEGATIVE_INFINITY;
  #rejectedCounter: Counter | undefined;

  constructor(opts: HistoryWriterOptions) {
    const bufferSize = opts.bufferSize ?? HISTORY_DEFAULTS.bufferSize;
    const batchSize = opts.batchSize ?? HISTORY_DEFAULTS.batchSize;
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) throw new RangeError(`history: \`bufferSize\` must be a whole number >= 1, got ${bufferSize}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`history: \`batchSize\` must be a whole number >= 1, got ${batchSize}`);
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log.child({ component: 'history' });
    this.#bufferSize = bufferSize;
    this.#batchSize = batchSize;
    this.#schemaReady = opts.migrate === false;
  }

  /** Rows dropped because the buffer was full (or left when `close()` gave up); a note counts its rows. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Rows PostgreSQL refused for what they hold (set aside, not retried). */
  get rejected(): number {
    return this.#rejected;
  }

  /** Rows written to PostgreSQL. */
  get written(): number {
    return this.#written;
  }

  /** Records waiting to be written. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Counts into `registry`: `zkshard_history_dropped_total`, `zkshard_history_rejected_total`,
   * `zkshard_history_written_total`, `zkshard_history_buffered`.
   */
  registerMetrics(registry: Registry): void {
    this.#droppedCounter = new Counter({ name: 'zkshard_history_dropped_total', help: 'Run history records dropped: the buffer was full while PostgreSQL was slow or down', registers: [registry] });
    this.#droppedCounter.inc(this.#dropped);
    this.#rejectedCounter = new Counter({ name: 'zkshard_history_rejected_total', help: 'Run history records PostgreSQL refused for what they hold (set aside, not retried)', registers: [registry] });
    this.#rejectedCounter.inc(this.#rejected);
    const writer = this;
    new Counter({ name: 'zkshard_history_written_total', help: 'Run history records written to PostgreSQL', registers: [registry], collect() {
      this.reset();
      this.inc(writer.#written);
    } });
    new Gauge({ name: 'zkshard_history_buffered', help: 'Run history records waiting to be written', registers: [registry], collect() {
      this.set(writer.#buffer.length);
    } });
  }

  /** Buffers one record (on the firing path: returns at once, never throws). */
  record(run: RecordedRun): void {
    if (this.#state === 'closed' || this.#buffer.length >= this.#bufferSize) {
      this.#drop(rowCountOf(run));
      return;
    }
    this.#buffer.push({ id: randomUUID(), run });
    if (this.#buffer.length === this.#batchSize && this.#state === 'started') this.#clock.setImmediate(() => void this.flush());
  }

  /**
   * Starts the flush timer and the retention passes, and writes what was buffered before (the
   * schema is migrated first). Resolves at once: a PostgreSQL that is down holds nothing up (the
   * migration is retried with every flush).
   */
  async start(): Promise<void> {
    if (this.#state !== 'latent') throw new IllegalStateError(`history: start() in state ${this.#state}`);
    this.#state = 'started';
    void this.flush();
    this.#flushTimer = this.#clock.setInterval(() => void this.flush(), this.#opts.flushIntervalMs ?? HISTORY_DEFAULTS.flushIntervalMs);
    this.#flushTimer.unref?.();
    const retention = this.#opts.retention;
    if (retention) {
      const pass = () => void this.#retain();
      this.#retentionTimer = this.#clock.setInterval(pass, retention.intervalMs ?? HISTORY_DEFAULTS.maintenanceIntervalMs);
      this.#retentionTimer.unref?.();
      pass();
    }
  }

  /** Writes everything buffered now (resolves once the buffer is empty or a write failed; never rejects). */
  flush(): Promise<void> {
    this.#flushing ??= this.#writeAll().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /**
   * Stops the timers and writes what is left, trying for up to `timeoutMs` while PostgreSQL does not
   * answer; records still left then are counted as dropped. Closes the pool. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? 5000);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#state = 'closing';
    this.#clock.clearInterval(this.#flushTimer);
    this.#clock.clearInterval(this.#retentionTimer);
    const deadline = this.#clock.monotonic() + timeoutMs;
    for (;;) {
      await this.flush();
      const left = deadline - this.#clock.monotonic();
      if (this.#buffer.length === 0 || left <= 0) break;
      await sleep(this.#clock, Math.min(250, left));
    }
    if (this.#buffer.length > 0) {
      this.#log.warn({ records: this.#buffer.length }, 'history: PostgreSQL unreachable at close: records not written');
      this.#drop(this.#buffer.reduce((n, p) => n + (p.rows ? rowCountOf(p.run) - p.given! : 1), 0));
      this.#buffer = [];
    }
    this.#state = 'closed';
    await this.#opts.pool.end().catch(() => undefined);
  }

  async #prepare(): Promise<void> {
    if (this.#schemaReady) return;
    await migrate(this.#opts.pool, this.#log);
    this.#schemaReady = true;
  }

  async #writeAll(): Promise<void> {
    try {
      while (this.#buffer.length > 0) {
        await this.#prepare();
        await this.#expandHead();
        const batch = this.#buffer.slice(0, this.#batchSize);
        await this.#ensureDays(batch);
        const refused = await this.#insertSettingAside(batch);
        // Records dropped meanwhile never entered the buffer: the batch is still its head.
        this.#buffer.splice(0, batch.length);
        this.#written += batch.length - refused;
        if (this.#unavailableSince !== undefined) {
          this.#log.info({ downMs: this.#clock.now() - this.#unavailableSince, buffered: this.#buffer.length }, 'history: PostgreSQL reachable again; writing the buffered records');
          this.#unavailableSince = undefined;
        }
      }
    } catch (err) {
      this.#unavailable(err);
    }
  }

  /**
   * Expands the notes among the next batch's entries into their rows (kept in the buffer, ids and
   * all, so a batch written again after a failure is stored once).
   */
  async #expandHead(): Promise<void> {
    let taken = 0;
    for (let i = 0; i < this.#buffer.length && i < this.#batchSize; i++) {
      const p = this.#buffer[i]!;
      if (!p.rows) {
        if (!expandable(p.run)) continue;
        p.rows = noteRows(p.run);
        p.given = 0;
      }
      const rows: Pending[] = [];
      for (let r = p.rows.next(); ; r = p.rows.next()) {
        if (r.done) {
          this.#buffer.splice(i, 1, ...rows);
          break;
        }
        if ((r.value.fires ?? 1) > 1) this.#log.warn({ job: p.run.job, item: p.run.item, outcome: p.run.outcome, fires: p.run.fires, latest: p.run.fireTime.toISOString(), notStoredPerFire: r.value.fires }, 'history: a note of more fires than are stored one row each: its earliest stored as one row');
        rows.push({ id: randomUUID(), run: r.value });
        p.given!++;
        if (++taken % ROWS_PER_TURN === 0) await nextTurn();
        if (i + rows.length >= this.#batchSize) {
          this.#buffer.splice(i, 0, ...rows);
          return;
        }
      }
      i += rows.length - 1;
    }
  }

  /** Creates the day partitions the batch needs and were not known to exist. */
  async #ensureDays(batch: readonly Pending[]): Promise<void> {
    const days = new Set(batch.map((p) => dayOf(p.run.fireTime.getTime())));
    const missing = [...days].filter((d) => !this.#days.has(d));
    if (missing.length > 0) {
      await ensurePartitions(this.#opts.pool, missing);
      for (const d of missing) this.#days.add(d);
    }
  }

  /**
   * Inserts the rows; when PostgreSQL refuses them for their content, halves the batch until the
   * rows it refuses are alone, and sets those aside. Resolves how many were set aside; any other
   * error is thrown (the batch stays at the head of the buffer and is retried).
   */
  async #insertSettingAside(rows: readonly Pending[]): Promise<number> {
    try {
      await insertRunRows(this.#opts.pool, rows);
      return 0;
    } catch (err) {
      if (!isContentError(err)) throw err;
      if (rows.length === 1) {
        this.#refuse(rows[0]!, err);
        return 1;
      }
      const half = Math.ceil(rows.length / 2);
      return (await this.#insertSettingAside(rows.slice(0, half))) + (await this.#insertSettingAside(rows.slice(half)));
    }
  }

  #refuse({ run }: Pending, err: unknown): void {
    this.#rejected++;
    this.#rejectedSinceWarn++;
    this.#rejectedCounter?.inc();
    const now = this.#clock.now();
    if (now - this.#lastRejectWarnAt >= WARN_EVERY_MS) {
      this.#log.warn(
        { job: run.job, item: run.item, fireTime: run.fireTime.toISOString(), outcome: run.outcome, err: pgErrorOf(err), rejected: this.#rejectedSinceWarn, rejectedTotal: this.#rejected },
        'history: PostgreSQL refused a run record for what it holds: set aside (zkshard_history_rejected_total)',
      );
      this.#lastRejectWarnAt = now;
      this.#rejectedSinceWarn = 0;
    }
  }

  /** A write failed: logged once when it starts and every WARN_EVERY_MS while it lasts. */
  #unavailable(err: unknown): void {
    const now = this.#clock.now();
    // A partition dropped meanwhile (retention) is created again on the next write.
    this.#days.clear();
    if (this.#unavailableSince === undefined || now - this.#lastWarnAt >= WARN_EVERY_MS) {
      this.#unavailableSince ??= now;
      this.#lastWarnAt = now;
      this.#log.warn({ err: pgErrorOf(err), buffered: this.#buffer.length, bufferSize: this.#bufferSize }, 'history: cannot write to PostgreSQL; records wait in the buffer');
    }
  }

  #drop(n: number): void {
    this.#dropped += n;
    this.#droppedSinceWarn += n;
    this.#droppedCounter?.inc(n);
    const now = this.#clock.now();
    if (now - this.#lastDropWarnAt >= WARN_EVERY_MS) {
      this.#log.warn({ dropped: this.#droppedSinceWarn, droppedTotal: this.#dropped, bufferSize: this.#bufferSize }, 'history: buffer full: run records dropped (zkshard_history_dropped_total)');
      this.#lastDropWarnAt = now;
      this.#droppedSinceWarn = 0;
    }
  }

  async #retain(): Promise<void> {
    const retention = this.#opts.retention!;
    try {
      await this.#prepare();
      const result = await applyRetention(this.#opts.pool, { ...retention, now: this.#clock.now() });
      if (result.dropped.length > 0 || Object.keys(result.capped).length > 0) this.#log.info({ dropped: result.dropped, capped: result.capped }, 'history: retention applied');
      if (result.dropped.length > 0) this.#days.clear(); // their days are created again if written to
    } catch (err) {
      this.#log.debug({ err: pgErrorOf(err) }, 'history: retention pass failed; next one later');
    }
  }
}
