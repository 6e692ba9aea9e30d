// The bench's job handler. It records every handler entry, as one line per run:
//   <job> <item> <fire time ms> <entry time ms, 3 decimals> <attempt> <worker id> <fencing token>
// buffered in memory and appended to $BENCH_DIR/runs-<pid>.txt every 200 ms (and at exit), so
// recording costs the measured event loop almost nothing. `jobParameter` "sleepMs=N" makes a run
// last N ms (aborted by ctx.signal).
import { appendFile } from 'node:fs/promises';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const file = join(process.env.BENCH_DIR ?? '.', `runs-${process.pid}.txt`);
let buffer = [];
let writing = Promise.resolve();

function flush() {
  if (buffer.length === 0) return;
  const lines = buffer.join('');
  buffer = [];
  writing = writing.then(() => appendFile(file, lines)).catch(() => {});
}

setInterval(flush, 200).unref();
process.on('exit', () => {
  if (buffer.length > 0) appendFileSync(file, buffer.join(''));
});

export default async function benchHandler(ctx) {
  const entry = performance.timeOrigin + performance.now();
  buffer.push(`${ctx.job} ${ctx.item} ${ctx.fireTime.getTime()} ${entry.toFixed(3)} ${ctx.attempt} ${ctx.workerId} ${ctx.fencingToken}\n`);
  const sleepMs = Number(/sleepMs=(\d+)/.exec(ctx.jobParameter ?? '')?.[1] ?? 0);
  if (sleepMs > 0) await sleep(sleepMs, undefined, { signal: ctx.signal });
}
