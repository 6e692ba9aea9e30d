import type { ConfigProblem } from '../errors/config-error.js';

/** A parsed YAML/JSON mapping. */
export type RawMapping = Record<string, unknown>;

export function isMapping(v: unknown): v is RawMapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `jobs[1]` + `retry` → `jobs[1].retry`; an empty path gives the key alone. */
export function joinKey(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Reads values out of parsed config and collects one {@link ConfigProblem} per bad value (tagged
 * with the file and job), so that every problem is reported, not just the first. Each reader method
 * returns the value (or its default) when it is good, and `undefined` after reporting a problem.
 */
export class ConfigReader {
  readonly problems: ConfigProblem[] = [];

  constructor(
    readonly file?: string,
    /** The job the next problems are in; set once its name is known. */
    public job?: string,
  ) {}

  /** Records a problem; pass `value` (even `undefined`) to show the bad value. */
  report(key: string, message: string, ...value: [] | [unknown]): void {
    const p: ConfigProblem = { key, message };
    if (this.file !== undefined) p.file = this.file;
    if (this.job !== undefined) p.job = this.job;
    if (value.length > 0) p.value = value[0];
    this.problems.push(p);
  }

  /** Adds problems found elsewhere, tagged with this reader's file and job. */
  adopt(problems: readonly ConfigProblem[]): void {
    for (const { key, message, ...rest } of problems) {
      if ('value' in rest) this.report(key, message, rest.value);
      else this.report(key, message);
    }
  }

  /**
   * A mapping whose keys must all be in `allowed`; `null`/absent gives `{}` when `optional`.
   * Unknown keys are reported (listing the allowed ones); the known ones are still read.
   */
  mapping(raw: unknown, path: string, allowed: readonly string[], optional = false): RawMapping | undefined {
    if (raw === undefined || raw === null) {
      if (optional) return {};
      this.report(path, 'must be a mapping', raw);
      return undefined;
    }
    if (!isMapping(raw)) {
      this.report(path, 'must be a mapping', raw);
      return undefined;
    }
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) {
        this.report(joinKey(path, key), `unknown key "${key}" (allowed: ${allowed.join(', ')})`, raw[key]);
      }
    }
    return raw;
  }

  /** A string; `def` undefined means required. */
  string(
    obj: RawMapping,
    path: string,
    key: string,
    def?: string,
    rule?: { nonEmpty?: boolean; pattern?: RegExp; patternText?: string; maxLength?: number },
  ): string | undefined {
    const k = joinKey(path, key);
    const v = obj[key];
    if (v === undefined) return this.missing(k, def);
    if (typeof v !== 'string') return this.fail(k, 'must be a string', v);
    if (rule?.nonEmpty && v.trim() === '') return this.fail(k, 'must not be empty', v);
    if (rule?.maxLength !== undefined && v.length > rule.maxLength) {
      // A long value is shown shortened (it may be megabytes).
      return this.fail(k, `must be at most ${rule.maxLength} characters (has ${v.length})`, v.length > 200 ? `${v.slice(0, 40)}...` : v);
    }
    if (rule?.pattern && !rule.pattern.test(v)) {
      return this.fail(k, `must match ${rule.patternText ?? rule.pattern.source}`, v);
    }
    return v;
  }

  /** An integer in [min, max]; `def` undefined means required. */
  integer(obj: RawMapping, path: string, key: string, min: number, max: number, def?: number): number | undefined {
    const k = joinKey(path, key);
    const v = obj[key];
    if (v === undefined) return this.missing(k, def);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      return this.fail(k, `must be an integer ${range}`, v);
    }
    return v;
  }

  /** A finite number > 0; `def` undefined means required. */
  positiveNumber(obj: RawMapping, path: string, key: string, def?: number): number | undefined {
    const k = joinKey(path, key);
    const v = obj[key];
    if (v === undefined) return this.missing(k, def);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return this.fail(k, 'must be a finite number > 0', v);
    return v;
  }

  boolean(obj: RawMapping, path: string, key: string, def: boolean): boolean | undefined {
    const k = joinKey(path, key);
    const v = obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') return this.fail(k, 'must be true or false', v);
    return v;
  }

  /** One of `allowed` (listed in the message when it is not). */
  choice<T extends string>(obj: RawMapping, path: string, key: string, allowed: readonly T[], def: T): T | undefined {
    const k = joinKey(path, key);
    const v = obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      return this.fail(k, `must be one of: ${allowed.join(', ')}`, v);
    }
    return v as T;
  }

  private missing<T>(key: string, def: T | undefined): T | undefined {
    if (def === undefined) this.report(key, 'is required');
    return def;
  }

  private fail(key: string, message: string, value: unknown): undefined {
    this.report(key, message, value);
    return undefined;
  }
}
