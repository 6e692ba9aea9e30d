import type { FleetSimulationResult } from './fleet-simulation.js';

/** How many trace lines before the first violation a report shows. */
export const TRACE_TAIL_LINES = 60;

/**
 * A failing seed's report: the seed, each violated invariant, the tail of the trace up to the first
 * violation, and the command that replays it exactly.
 */
export function formatFailure(result: FleetSimulationResult, tailLines = TRACE_TAIL_LINES): string {
  const first = result.violations[0];
  const lines = result.trace.lines;
  let end = lines.length;
  if (first) {
    const idx = lines.findIndex((l) => Number(l.slice(0, l.indexOf(' '))) > first.atMs);
    if (idx >= 0) end = idx;
  }
  const tail = lines.slice(Math.max(0, end - tailLines), end);
  return [
    `seed ${result.seed}: ${result.violations.length} violation(s)`,
    ...result.violations.slice(0, 20).map((v) => `  [${v.invariant}] at ${v.atMs.toFixed(0)} ms: ${v.message}`),
    ...(result.violations.length > 20 ? [`  ... and ${result.violations.length - 20} more`] : []),
    `trace up to the first violation (last ${tail.length} lines):`,
    ...tail.map((l) => `  ${l}`),
    `replay: npm run simulate -- --seed ${result.seed}${result.activeMs ? ` --active ${result.activeMs[0]}-${result.activeMs[1]}` : ''} --trace --logs`,
  ].join('\n');
}
