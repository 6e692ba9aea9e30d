// The bench's job handler. It records every handler entry, as one line per run:
//   <job> <item> <fire time ms> <entry time ms, 3 decimals> <attempt> <worker id> <fencing token>
// appended to $BENCH_DIR/runs-<pid>.txt every 200 ms (and at exit). It is the bench's probe: a
// handler entered at an instant delays the entries after it in that turn by what it does before
// its first await, so at the instant it only keeps the raw values (no string is built, no
// parameter parsed) and the lines are made at the flush. `jobParameter` "sleepMs=N" makes a run
// last N ms (aborted by ctx.signal).
import { appendFile } from 'node:fs/promises';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const file = join(process.env.BENCH_DIR ?? '.', `runs-${process.pid}.txt`);
/** Seven values per entry, in the order of the line. */
let entries = [];
let writing = Promise.resolve();
/** `sleepMs` of each job parameter met (one parse per distinct parameter, not per run). */
const sleepOf = new Map();

function lines() {
  const e = entries;
  entries = [];
  let text = '';
  for (let i = 0; i < e.length; i += 7) text += `${e[i]} ${e[i + 1]} ${e[i + 2]} ${e[i + 3].toFixed(3)} ${e[i + 4]} ${e[i + 5]} ${e[i + 6]}\n`;
  return text;
}

function flush() {
  if (entries.length === 0) return;
  const text = lines();
  writing = writing.then(() => appendFile(file, text)).catch(() => {});
}

setInterval(flush, 200).unref();
process.on('exit', () => {
  if (entries.length > 0) appendFileSync(file, lines());
});

function sleepMsOf(parameter) {
  let ms = sleepOf.get(parameter);
  if (ms === undefined) {
    ms = Number(/sleepMs=(\d+)/.exec(parameter ?? '')?.[1] ?? 0);
    sleepOf.set(parameter, ms);
  }
  return ms;
}

// Read once: `performance` is a lazy getter on the global object, and `timeOrigin` a getter too
// (together half the cost of the entry's clock reading, paid 2,000 times an instant).
const perf = performance;
const timeOrigin = perf.timeOrigin;

export default async function benchHandler(ctx) {
  const entry = timeOrigin + perf.now();
  entries.push(ctx.job, ctx.item, ctx.fireTime.getTime(), entry, ctx.attempt, ctx.workerId, ctx.fencingToken);
  const sleepMs = sleepMsOf(ctx.jobParameter);
  if (sleepMs > 0) await sleep(sleepMs, undefined, { signal: ctx.signal });
}
