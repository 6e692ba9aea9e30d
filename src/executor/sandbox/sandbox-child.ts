/**
 * The entry of a sandbox: a worker thread or a child process that runs module handlers for the
 * worker, one run at a time. Its context is the handler API of `JobContext`: the facts arrive
 * with the run, `ctx.signal` aborts when the worker says so, `ctx.log` lines go back to the
 * worker's logger, and `ctx.stage` asks the worker (where the stage store lives) whether to run
 * the stage and waits until the worker recorded it.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { HandlerLoader } from '../handler-loader.js';
import type { JobContext } from '../job-context.js';
import { fromErrorShape, toErrorShape } from './sandbox-error-shape.js';
import type { FromSandbox, ToSandbox } from './sandbox-messages.js';

type StageReply = Extract<ToSandbox, { t: 'stage-run' | 'stage-done' | 'stage-failed' }>;

interface ChildRun {
  abort: AbortController;
  replies: Map<number, (reply: StageReply) => void>;
}

const send: (msg: FromSandbox) => void = isMainThread
  ? (msg) => process.send?.(msg)
  : (msg) => parentPort!.postMessage(msg);

/** Module handlers resolve as in the worker: the worker sends the absolute path. */
const loader = new HandlerLoader('/');
const runs = new Map<number, ChildRun>();

function onMessage(msg: ToSandbox): void {
  if (msg.t === 'run') {
    void run(msg);
    return;
  }
  const active = runs.get(msg.id);
  if (!active) return;
  if (msg.t === 'abort') active.abort.abort(fromErrorShape(msg.reason));
  else {
    const reply = active.replies.get(msg.stageId);
    active.replies.delete(msg.stageId);
    reply?.(msg);
  }
}

async function run(msg: Extract<ToSandbox, { t: 'run' }>): Promise<void> {
  const active: ChildRun = { abort: new AbortController(), replies: new Map() };
  runs.set(msg.id, active);
  try {
    const handler = await loader.load(msg.file);
    await handler(contextOf(msg, active));
    send({ t: 'done', id: msg.id, ok: true });
  } catch (err) {
    send({ t: 'done', id: msg.id, ok: false, error: toErrorShape(err) });
  } finally {
    runs.delete(msg.id);
  }
}

function contextOf(msg: Extract<ToSandbox, { t: 'run' }>, active: ChildRun): JobContext {
  const { id } = msg;
  let stageIds = 0;
  let logger: Logger | undefined;
  const reply = (stageId: number): Promise<StageReply> => new Promise((resolve) => active.replies.set(stageId, resolve));
  return {
    ...msg.facts,
    signal: active.abort.signal,
    // Made on first use (most runs log nothing): lines go to the worker, which adds the run's bindings.
    get log(): Logger {
      return (logger ??= pino({ level: msg.logLevel, base: undefined, timestamp: false }, { write: (line: string) => send({ t: 'log', id, line }) }));
    },
    async stage<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
      const stageId = ++stageIds;
      const first = reply(stageId);
      send({ t: 'stage', id, stageId, name });
      const answer = await first;
      if (answer.t === 'stage-done') return answer.result as T; // completed by an earlier attempt
      if (answer.t === 'stage-failed') throw fromErrorShape(answer.error);
      const recorded = reply(stageId);
      let value: T;
      try {
        value = await fn();
      } catch (err) {
        send({ t: 'stage-result', id, stageId, ok: false, error: toErrorShape(err) });
        await recorded;
        throw err;
      }
      send({ t: 'stage-result', id, stageId, ok: true, value: value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown) });
      const done = await recorded;
      if (done.t === 'stage-failed') throw fromErrorShape(done.error);
      return value;
    },
  };
}

if (isMainThread) {
  if (!process.send) throw new Error('sandbox-child: start it as a worker thread or a forked child process');
  process.on('message', (msg) => onMessage(msg as ToSandbox));
  // The worker is gone: nothing of its runs may go on.
  process.on('disconnect', () => process.exit(1));
} else {
  parentPort!.on('message', onMessage);
}
send({ t: 'ready' });
