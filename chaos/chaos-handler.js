// The chaos suite's job handler. It logs every run (start, then end / aborted / failed) and writes
// to the fenced store three times: at start, mid-way and at the end. The last write is made even
// when ctx.signal was aborted meanwhile (right after the run logged its abort): like a handler
// caught mid-write by a freeze, it tests that the store, not the handler's good manners, keeps
// stale data out.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const dir = process.env.CHAOS_DIR;
const store = process.env.CHAOS_STORE;

async function write(ctx, phase) {
  const body = { key: `${ctx.job}#${ctx.item}`, token: ctx.fencingToken, worker: ctx.workerId, pid: process.pid, fire: ctx.fireTime.toISOString(), attempt: ctx.attempt, phase };
  try {
    await fetch(`${store}/write`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  } catch {
    // the store is the harness: if it is gone the run is over anyway
  }
}

export default async function chaosHandler(ctx) {
  const base = { worker: ctx.workerId, pid: process.pid, job: ctx.job, item: ctx.item, fire: ctx.fireTime.toISOString(), attempt: ctx.attempt, token: ctx.fencingToken };
  const log = join(dir, `runs-${ctx.workerId}-${process.pid}.jsonl`);
  const event = (name, extra = {}) => appendFileSync(log, `${JSON.stringify({ event: name, ...base, at: Date.now(), ...extra })}\n`);
  // A run starts when the worker enters its handler, right after checking its lease: that is
  // ctx.startedAt. This function's own first reading can be seconds later when the process is
  // frozen between the two (chaos, 2026-12-07 21:03:39: a SIGSTOP at the very instant made a run
  // entered before the freeze look as if it started 7 s later, after the lease was lost).
  event('start', { at: ctx.startedAt.getTime(), handlerAt: Date.now() });
  const sleepMs = Number(/sleepMs=(\d+)/.exec(ctx.jobParameter)?.[1] ?? 300);
  try {
    await write(ctx, 'start');
    await sleep(sleepMs / 2, undefined, { signal: ctx.signal });
    await write(ctx, 'mid');
    await sleep(sleepMs / 2, undefined, { signal: ctx.signal });
  } catch (err) {
    // The run is over for the fleet once it saw the abort: log that moment, then make one more
    // write, as a handler caught mid-write would. It may come after the lease was lost (and after
    // a new owner started): the store must refuse it (the checker looks at every write).
    event(ctx.signal.aborted ? 'aborted' : 'failed', { reason: ctx.signal.reason?.code ?? String(err?.message ?? err) });
    await write(ctx, 'late');
    throw err;
  }
  await write(ctx, 'end');
  event('end');
}
