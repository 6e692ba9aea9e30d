/** One live worker that may own items of a job. */
export interface WorkerSlot {
  /** Member id: stable unique key of a live worker session, e.g. 'm-0000000007'. */
  id: string;
  /** Relative weight for balancing, > 0 (only the `sticky` strategy uses it). */
  capacity: number;
}

/** Everything a strategy needs to spread one job's items; never mutated by any strategy. */
export interface AllocationInput {
  /** Job name (used by the `odevity` and `round-robin` hashing). */
  job: string;
  /** Number of items; items are `0..shards-1`. An integer >= 1. */
  shards: number;
  /** Eligible workers in membership order (ascending ZooKeeper sequence). May be empty. */
  workers: readonly WorkerSlot[];
  /**
   * Current owner per item (index = item); `undefined`/`null` = unowned. May be shorter or longer
   * than `shards` (entries past the end are ignored); owners not in `workers` are ignored.
   */
  previous?: readonly (string | null | undefined)[];
  /**
   * Pinned items: item -> worker id. A pin to an eligible worker is always honoured and counts
   * towards that worker's share; a pin to a worker not in `workers`, or for an item outside
   * `0..shards-1`, is ignored (the item is allocated normally).
   */
  pins?: Readonly<Record<number, string>>;
}

/** `owners[item]` = worker id, or `null` when there is no eligible worker. `length === shards`. */
export type Allocation = (string | null)[];

/** A pure, deterministic function from input to allocation. */
export type AllocationStrategy = (input: AllocationInput) => Allocation;
