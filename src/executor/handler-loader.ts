import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerError } from '../errors/handler-error.js';
import { toHandler, type JobHandler } from './job-context.js';

/** Loads module handlers once per path (relative paths resolve against `baseDir`). */
export class HandlerLoader {
  private readonly cache = new Map<string, Promise<JobHandler>>();
  /** Handlers loaded, by the name they were asked by (`loaded`: no promise and no path built per run). */
  private readonly ready = new Map<string, JobHandler>();

  constructor(private readonly baseDir: string) {}

  resolvePath(handler: string): string {
    return isAbsolute(handler) ? handler : resolve(this.baseDir, handler);
  }

  load(handler: string): Promise<JobHandler> {
    const file = this.resolvePath(handler);
    let loading = this.cache.get(file);
    if (!loading) {
      loading = this.importHandler(handler, file);
      this.cache.set(file, loading);
      loading.catch(() => this.cache.delete(file));
    }
    if (!this.ready.has(handler)) loading.then((fn) => this.ready.set(handler, fn), () => undefined);
    return loading;
  }

  /** The handler `load(handler)` resolved with, once it has; undefined before (or when it failed). */
  loaded(handler: string): JobHandler | undefined {
    return this.ready.get(handler);
  }

  private async importHandler(handler: string, file: string): Promise<JobHandler> {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      throw new HandlerError(`handler ${JSON.stringify(handler)}: cannot load ${file}: ${(err as Error).message}`, { cause: err });
    }
    const fn = toHandler(mod.default);
    if (!fn) {
      throw new HandlerError(`handler ${JSON.stringify(handler)}: the default export of ${file} is not a function or defineJob(...) value (got ${typeof mod.default})`);
    }
    return fn;
  }
}
