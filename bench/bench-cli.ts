#!/usr/bin/env node
// npm run bench [-- <scenario>...] [--quick] [--list]: runs benchmark scenarios against real
// processes and servers, prints each one's tables and writes bench/results/<scenario>.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { repoRoot } from '../src/testing/worker-fleet.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { BenchCleanup } from './lib/bench-cleanup.js';
import { machineInfo } from './lib/machine-info.js';
import { renderTable } from './lib/table.js';
import type { ScenarioResult } from './lib/scenario.js';
import { SCENARIOS } from './scenarios/index.js';

const program = new Command('bench')
  .description('zkshard benchmarks (PRODUCT.md §5): real worker processes against a real ZooKeeper')
  .argument('[scenarios...]', `scenarios to run, in this order (default: all): ${SCENARIOS.map((s) => s.name).join(', ')}`)
  .option('--quick', 'short runs, to check the bench itself (figures not for publishing)', false)
  .option('--list', 'list the scenarios and exit', false)
  .option('--keep', 'keep the scratch directory (worker logs, run records)', false)
  .showHelpAfterError();
program.parse();
const opts = program.opts<{ quick: boolean; list: boolean; keep: boolean }>();
const names: string[] = program.args.length > 0 ? program.args : SCENARIOS.map((s) => s.name);

if (opts.list) {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(12)} ${s.summary}\n`);
  process.exit(EXIT.OK);
}
const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown scenario ${unknown.map((u) => JSON.stringify(u)).join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(EXIT.USAGE);
}

const log = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const abort = new AbortController();
let interrupts = 0;
const cleanup = new BenchCleanup();
const onSignal = (sig: NodeJS.Signals): void => {
  interrupts++;
  if (interrupts === 1) {
    log(`${sig}: stopping the scenario and everything it started (again to kill at once)`);
    abort.abort(new Error(`interrupted by ${sig}`));
  } else {
    cleanup.dispose();
    process.exit(EXIT.INTERRUPTED);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const resultsDir = join(repoRoot(), 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'zkshard-bench-'));
const previous = new Map<string, ScenarioResult>();
const machine = await machineInfo();
log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; scratch ${scratch}`);
let failed = false;
for (const name of names) {
  if (abort.signal.aborted) break;
  const scenario = SCENARIOS.find((s) => s.name === name)!;
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  log(`— ${name}: ${scenario.summary}`);
  const startedAt = new Date();
  try {
    const result = await scenario.run({ quick: opts.quick, log: (l) => log(`${name}: ${l}`), signal: abort.signal, cleanup, dir, previous });
    const finishedAt = new Date();
    previous.set(name, result);
    process.stdout.write(`\n## ${name}\n\n${result.tables.map(renderTable).join('\n\n')}\n\n`);
    for (const t of result.targets) process.stdout.write(`- ${t.met ? 'met' : 'MISSED'}: ${t.what}: ${t.measured} (target ${t.target})\n`);
    for (const n of result.notes) process.stdout.write(`- ${n}\n`);
    const file = join(resultsDir, `${name}${opts.quick ? '.quick' : ''}.json`);
    writeFileSync(file, `${JSON.stringify({ ...result, startedAt, finishedAt, quick: opts.quick, machine, command: `npm run bench -- ${name}${opts.quick ? ' --quick' : ''}` }, null, 2)}\n`);
    log(`${name}: done in ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s → ${file}`);
  } catch (err) {
    failed = true;
    log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await cleanup.closeAll(log);
  }
}
cleanup.dispose();
if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
else log(`scratch kept: ${scratch}`);
process.exit(abort.signal.aborted ? EXIT.INTERRUPTED : failed ? EXIT.FAILED : EXIT.OK);
