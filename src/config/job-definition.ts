/** How the leader spreads a job's items over the workers that can run it. */
export type ShardingStrategyName = 'sticky' | 'average' | 'odevity' | 'round-robin';
export const SHARDING_STRATEGIES: readonly ShardingStrategyName[] = ['sticky', 'average', 'odevity', 'round-robin'];

/** What a fire does while the same item still runs from an earlier fire. */
export type OverlapPolicy = 'skip' | 'queue' | 'replace';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'queue', 'replace'];

/** What happens to fires that were due while nobody could run them. */
export type MisfirePolicy = 'fire-once' | 'skip' | 'catch-up';
export const MISFIRE_POLICIES: readonly MisfirePolicy[] = ['fire-once', 'skip', 'catch-up'];

/**
 * Where a module handler runs: `none` in the worker's own event loop, `thread` in a warm pool of
 * worker threads, `process` in a child process (see `executor/sandbox/`).
 */
export type SandboxMode = 'none' | 'thread' | 'process';
export const SANDBOX_MODES: readonly SandboxMode[] = ['none', 'thread', 'process'];

export interface RetryPolicy {
  /** Total attempts per fire, the first included. @default 1 */
  attempts: number;
  /** Delay before the second attempt; doubles per attempt, with jitter. @default 1000 */
  backoffMs: number;
  /** Upper bound of the delay. @default 30000 */
  maxBackoffMs: number;
}

/**
 * A job as stored in ZooKeeper (`/<ns>/jobs/<name>`, JSON): the fleet-wide source of truth.
 * Every field is filled in; defaults are applied when a file is loaded.
 */
export interface JobDefinition {
  /** `[a-z0-9][a-z0-9-_.]*`, at most 100 characters. */
  name: string;
  /** 6 fields (with seconds) or 5 fields; at most 200 characters. */
  cron: string;
  /** IANA zone. @default 'UTC' */
  timeZone: string;
  /** Number of shard items, 1..10000. */
  shards: number;
  /** Parameter per item (at most 10,000 characters each); keys are item numbers in 0..shards-1. @default {} */
  itemParameters: Record<string, string>;
  /** One string passed to every item, at most 10,000 characters. @default '' */
  jobParameter: string;
  /** Module handler path (relative paths resolve against the worker's config directory). */
  handler?: string;
  /** Script job: argv array run without a shell, or a string run by `/bin/sh -c`. */
  command?: string[] | string;
  /** @default 'sticky' */
  strategy: ShardingStrategyName;
  /** @default 'skip' */
  overlap: OverlapPolicy;
  /** @default 'fire-once' */
  misfire: MisfirePolicy;
  /** Most missed fires run by `misfire: catch-up` at one takeover. @default 10 */
  maxCatchUp: number;
  /** Re-run a fire that its owner was in the middle of when it died. @default true */
  failover: boolean;
  /** Abort a run after this long; 0 = no timeout. @default 0 */
  timeoutMs: number;
  retry: RetryPolicy;
  /**
   * Where the module handler runs (script jobs always run in their own process). `thread` and
   * `process` keep CPU-bound handlers off the event loop that keeps the session. @default 'none'
   */
  sandbox: SandboxMode;
  /**
   * How many times a fire may be cut short by its owner's lease loss and re-run elsewhere; past
   * that it is recorded as failed (`poisoned`) instead of run again. @default 1
   */
  maxFailovers: number;
  /** Free text for operators. @default '' */
  description: string;
}

export const JOB_NAME_PATTERN = /^[a-z0-9][a-z0-9-_.]*$/;
export const MAX_SHARDS = 10_000;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 1, backoffMs: 1000, maxBackoffMs: 30_000 };
export const MAX_JOB_NAME_LENGTH = 100;
/** Upper bound of `maxFailovers`. */
export const MAX_FAILOVERS = 100;
/** Upper bound of `maxCatchUp`. */
export const MAX_CATCH_UP = 1000;
/** Upper bound of `retry.attempts`. */
export const MAX_ATTEMPTS = 100;
/*
 * Bounds of the other fields. They are what a valid job can hold, so they also bound what a
 * worker accepts when it reads a definition back from ZooKeeper (model/job-record.ts).
 */
/** Longest item parameter, job parameter and description, in characters. */
export const MAX_PARAMETER_LENGTH = 10_000;
export const MAX_CRON_LENGTH = 200;
export const MAX_TIME_ZONE_LENGTH = 64;
/** Longest handler path, command string and argv entry, in characters. */
export const MAX_COMMAND_LENGTH = 10_000;
/** Most argv entries of a command. */
export const MAX_COMMAND_ARGS = 1000;
/** Largest definition as stored (UTF-8 JSON): it is written in one request with its item nodes. */
export const MAX_DEFINITION_BYTES = 512 * 1024;

/** The values a job definition gets for the keys a file leaves out (see the `@default`s above). */
export const JOB_DEFAULTS = {
  timeZone: 'UTC',
  jobParameter: '',
  strategy: 'sticky',
  overlap: 'skip',
  misfire: 'fire-once',
  maxCatchUp: 10,
  failover: true,
  timeoutMs: 0,
  sandbox: 'none',
  maxFailovers: 1,
  description: '',
} as const satisfies Partial<JobDefinition>;
