import { Command } from 'commander';
import { FleetReader } from '../../api/fleet-reader.js';
import { statusView, workersView, type ClockSkew } from '../../api/fleet-views.js';
import { watchFleet, type FleetEvent } from '../../api/fleet-watch.js';
import type { FleetSnapshot } from '../../api/fleet-snapshot.js';
import { ZkUnavailableError } from '../../zk/zk-errors.js';
import { formatTime, outputWidth, truncate } from '../output.js';
import { integerOption, secondsOption, withZk } from '../zkctl-context.js';
import { renderStatus } from './status-command.js';
import { renderWorkers } from './workers-command.js';

interface WatchOpts {
  once?: boolean;
  duration?: number;
  interval: number;
  runs?: boolean;
}

/** Event lines kept on the terminal view. */
const RECENT_EVENTS = 8;

/**
 * `zkctl watch`: on a terminal, a status view redrawn whenever the fleet changes; otherwise (or
 * with `--json`) one line (one JSON object) per change, starting with the current state.
 */
export function makeWatchCommand(): Command {
  return new Command('watch')
    .description('live view: redraws the status on a terminal; otherwise prints one line per change (JSON lines with --json)')
    .option('--once', 'print the current state once and exit', false)
    .option('--duration <s>', 'stop after this many seconds', secondsOption('--duration'))
    .option('--interval <ms>', 'time between two reads of the fleet', integerOption('--interval', 100, 60_000), 1000)
    .option('--runs', 'also report every finished run (one line per item and fire)', false)
    .action(async (opts: WatchOpts, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const reader = new FleetReader(zk, paths);
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const timer = opts.duration !== undefined ? setTimeout(() => stop.abort(), opts.duration * 1000) : undefined;
        const tty = process.stdout.isTTY === true && !globals.json;
        const recent: string[] = [];
        let lastFrame = '';
        try {
          const clock = tty ? await reader.clockSkew().catch(() => null) : null;
          for await (const tick of watchFleet(reader, { intervalMs: opts.interval, signal: stop.signal, runs: opts.runs === true })) {
            if (tty) {
              for (const e of tick.events) recent.push(`${formatTime(e.time)} ${e.message}`);
              recent.splice(0, Math.max(0, recent.length - RECENT_EVENTS));
              const frame = renderFrame(tick.snapshot, zk.connectString, clock, recent);
              if (frame !== lastFrame) {
                process.stdout.write(`\x1b[H\x1b[2J${frame}\n${truncate(`watching ${paths.root} on ${zk.connectString}; read ${formatTime(new Date(tick.snapshot.readAt).toISOString())}; Ctrl-C to quit`, outputWidth())}\n`);
                lastFrame = frame;
              }
            } else {
              for (const e of tick.events) process.stdout.write(globals.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
            }
            if (opts.once) break;
          }
        } catch (err) {
          if (zk.signal.aborted) throw new ZkUnavailableError('ZK_UNAVAILABLE', `lost the ZooKeeper session to ${zk.connectString}`, { cause: err });
          throw err;
        } finally {
          if (timer) clearTimeout(timer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });
}

/** `<ISO time> <message>` */
export function eventLine(e: FleetEvent): string {
  return `${e.time} ${e.message}`;
}

function renderFrame(s: FleetSnapshot, connect: string, clock: ClockSkew | null, recent: readonly string[]): string {
  const width = outputWidth();
  const parts = [renderStatus(statusView(s, connect, clock), width), renderWorkers(workersView(s), width)];
  if (recent.length > 0) parts.push(['recent changes:', ...recent.map((l) => truncate(`  ${l}`, width))].join('\n'));
  return parts.join('\n\n');
}
