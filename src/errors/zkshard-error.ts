/**
 * Base class of every error zkshard throws on purpose. `code` is stable and meant for programs
 * (the CLI maps codes to exit codes); `message` is for people; `cause` keeps the underlying error.
 */
export class ZkshardError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
