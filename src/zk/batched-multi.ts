import { ZkTransactionError, type ZkOpResult, type ZkTransaction } from './zk-transaction.js';
import { RequestTooLargeError } from './zk-errors.js';

/** What becomes of a request one of whose ops the server refused (nothing of that multi was applied). */
export type RejectedDecision =
  /** Send it again in the next multi (e.g. after re-reading the version it checks). */
  | 'retry'
  /** Leave it out; the other requests of the multi are sent again. */
  | 'drop'
  /** Send nothing more: this request and every one not committed yet are returned `unsent`. */
  | 'stop';

/** The part of `ZkClient` that commits multis. */
export interface MultiCommitter {
  transaction(): ZkTransaction;
  commit(tx: ZkTransaction): Promise<ZkOpResult[]>;
}

/** A committed request with the results of its own ops, in the order it added them. */
export interface CommittedRequest<R> {
  request: R;
  results: ZkOpResult[];
}

/** What the writer does at each step of {@link commitBatched}. */
export interface BatchedMultiHandlers<R> {
  /** Ops every multi starts with, e.g. a check of our own membership node. */
  prefix?(tx: ZkTransaction): void;
  /** Before each multi is filled, with the requests still to send (e.g. to load what `add` needs). */
  beforeRound?(pending: readonly R[]): Promise<void>;
  /**
   * Adds the ops of one request (all or none of them go in a multi). Returns false to leave the
   * request out for good, adding nothing (the writer settled it otherwise, e.g. a duplicate).
   */
  add(tx: ZkTransaction, request: R): boolean | void;
  /**
   * Ops every multi ends with, that depend on the requests it carries (e.g. a fence of each member
   * they take items from). Added after the batch is filled: keep them small (they are not counted
   * against `maxRequestBytes`).
   */
  suffix?(tx: ZkTransaction, batch: readonly R[]): void;
  /** A multi was committed: its requests, in order, each with its ops' results (and the results of its `suffix` ops). */
  committed(done: ReadonlyArray<CommittedRequest<R>>, suffixResults: ZkOpResult[]): void;
  /** The server refused op number `opOffset` (0-based, among the ops `add` put in) of `request`. */
  rejected(request: R, err: ZkTransactionError, opOffset: number): RejectedDecision | Promise<RejectedDecision>;
  /**
   * The server refused a `prefix` op. Returns the requests of `pending` (every request not
   * committed, in order) to send again with a new prefix (the writer settled the others, e.g. after
   * re-reading the version a prefix check expects), or nothing: then nothing more is sent and every
   * request not committed is unsent.
   */
  prefixRejected?(err: ZkTransactionError, pending: readonly R[]): void | Promise<readonly R[] | void>;
  /**
   * The server refused a `suffix` op (number `opOffset` among them): returns the requests of
   * `pending` to send again, or nothing: then nothing more is sent.
   */
  suffixRejected?(err: ZkTransactionError, pending: readonly R[], opOffset: number): readonly R[] | void | Promise<readonly R[] | void>;
  /**
   * The outcome of a multi is unknown (the connection dropped or no answer came in time): returns
   * the requests of `sent` to send again (the writer settled the others), or 'stop'. Without it,
   * nothing more is sent.
   */
  unknown?(sent: readonly R[], err: ZkTransactionError): Promise<readonly R[] | 'stop'>;
}

/**
 * A request in the multi being filled: its ops are `count` from op `first`. Handed to `committed`
 * as it is, its `results` set (a request that added no op — most of a worker's releases, which
 * write only its ledger — shares one empty list: thousands of them a multi).
 */
interface BatchEntry<R> extends CommittedRequest<R> {
  first: number;
  count: number;
}

const NO_RESULTS = Object.freeze([]) as unknown as ZkOpResult[];

export interface BatchedMultiOutcome<R> {
  /**
   * The requests neither committed nor left out, in their order: the prefix was refused, a
   * handler said 'stop', an outcome was unknown, or the rounds ran out.
   */
  unsent: R[];
  /** How many multis were committed. */
  multis: number;
  /** Whether the requests did not all fit one multi at some point (more than one was needed). */
  split: boolean;
}

/**
 * Writes a list of requests with as few multis as the request size allows: fills each multi in
 * order up to the client's `maxRequestBytes` (`ZkTransaction.addIfFits`; a request too large alone
 * still goes alone, and the client refuses it), carries the rest to the next one (a multi the client
 * refuses as too large once its `suffix` was added goes again with half as many requests, and so do
 * the later ones of this call), and when the server
 * refuses an op maps it back to the request that added it, which the writer retries, drops or
 * stops on. A failure other than `ZkTransactionError` is thrown. At most `maxRounds` multis are
 * tried (default: the number of requests + 5, so a writer that always says 'retry' still ends).
 */
export async function commitBatched<R>(
  zk: MultiCommitter,
  requests: readonly R[],
  handlers: BatchedMultiHandlers<R>,
  options: { maxRounds?: number } = {},
): Promise<BatchedMultiOutcome<R>> {
  const maxRounds = options.maxRounds ?? requests.length + 5;
  let pending = [...requests];
  let multis = 0;
  let split = false;
  /** Most requests a multi carries: halved when one outgrew the request limit after it was filled. */
  let cap = Infinity;
  for (let round = 0; pending.length > 0 && round < maxRounds; round++) {
    await handlers.beforeRound?.(pending);
    const tx = zk.transaction();
    handlers.prefix?.(tx);
    const prefixOps = tx.size;
    const batch: Array<BatchEntry<R>> = [];
    let cut = pending.length;
    for (let k = 0; k < pending.length; k++) {
      const request = pending[k]!;
      if (batch.length >= cap) {
        cut = k;
        break;
      }
      const first = tx.size;
      const added = tx.addIfFits(handlers, request, batch.length === 0);
      if (added === 'left out') continue;
      if (added === 'full') {
        cut = k;
        break;
      }
      batch.push({ request, results: NO_RESULTS, first, count: tx.size - first });
    }
    const rest = pending.slice(cut);
    if (batch.length === 0) {
      pending = rest;
      continue;
    }
    if (rest.length > 0) split = true;
    const sent = batch.map((b) => b.request);
    const suffixOps = tx.size;
    handlers.suffix?.(tx, sent);
    try {
      const results = await zk.commit(tx);
      multis++;
      for (const b of batch) if (b.count > 0) b.results = results.slice(b.first, b.first + b.count);
      handlers.committed(batch, results.slice(suffixOps));
      pending = rest;
    } catch (err) {
      if (err instanceof RequestTooLargeError && batch.length > 1) {
        // Not sent: the multi outgrew the limit after it was filled (its suffix — a writer's own
        // records that grew since it set their bytes aside). Sent again, at most half as many requests.
        cap = Math.ceil(batch.length / 2);
        split = true;
        continue;
      }
      if (!(err instanceof ZkTransactionError)) throw err;
      if (err.failedIndex < 0) {
        const again = handlers.unknown ? await handlers.unknown(sent, err) : 'stop';
        if (again === 'stop') return { unsent: [...sent, ...rest], multis, split };
        const retried = new Set(again);
        pending = [...sent.filter((r) => retried.has(r)), ...rest];
        continue;
      }
      if (err.failedIndex < prefixOps) {
        const again = await handlers.prefixRejected?.(err, [...sent, ...rest]);
        if (!again) return { unsent: [...sent, ...rest], multis, split };
        pending = [...again];
        continue;
      }
      if (err.failedIndex >= suffixOps) {
        const again = await handlers.suffixRejected?.(err, [...sent, ...rest], err.failedIndex - suffixOps);
        if (!again) return { unsent: [...sent, ...rest], multis, split };
        pending = [...again];
        continue;
      }
      const owner = batch.find((b) => err.failedIndex >= b.first && err.failedIndex < b.first + b.count)!;
      const decision = await handlers.rejected(owner.request, err, err.failedIndex - owner.first);
      if (decision === 'stop') return { unsent: [...sent, ...rest], multis, split };
      pending = [...(decision === 'drop' ? sent.filter((r) => r !== owner.request) : sent), ...rest];
    }
  }
  return { unsent: pending, multis, split };
}
