import { ZkshardError } from './zkshard-error.js';

/** One problem found in a configuration file or a job definition. */
export interface ConfigProblem {
  /** The file the problem is in, when there is one. */
  file?: string;
  /** The job the problem is in, when it is inside a job. */
  job?: string;
  /** Dotted key path, e.g. `jobs[2].cron` or `zookeeper.sessionTimeoutMs`. */
  key: string;
  /** What is wrong, in words. */
  message: string;
  /** The offending value, as found. */
  value?: unknown;
}

/** Formats one problem as a single line: `file: job "x": key: message (got: value)`. */
export function formatConfigProblem(p: ConfigProblem): string {
  const where = [p.file, p.job === undefined ? undefined : `job "${p.job}"`, p.key]
    .filter((s) => s !== undefined && s !== '')
    .join(': ');
  const got = 'value' in p ? ` (got: ${JSON.stringify(p.value) ?? String(p.value)})` : '';
  return `${where}: ${p.message}${got}`;
}

/**
 * Thrown when a configuration file, a job definition or an operator request is invalid.
 * Carries every problem found, not just the first; nothing has been written when it is thrown.
 */
export class ConfigError extends ZkshardError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    const lines = problems.map(formatConfigProblem);
    super(
      'CONFIG_INVALID',
      problems.length === 1 ? lines[0]! : `${problems.length} problems:\n  ${lines.join('\n  ')}`,
      options,
    );
    this.problems = problems;
  }
}
