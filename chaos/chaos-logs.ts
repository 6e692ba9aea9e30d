import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedNote, RunEvent, SessionEvent } from './chaos-records.js';

/** Reads the handlers' run logs. */
export function readRunEvents(dir: string): RunEvent[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('runs-') && f.endsWith('.jsonl'))
    .flatMap((f) => readJsonLines<RunEvent>(join(dir, f)));
}

/**
 * The ends of script runs the worker killed (SIGKILL of the script's process group), from the
 * workers' logs: such a run cannot log its own end. The `run finished` line is written once the
 * script's processes are all gone (its output pipes closed), so it bounds the run from above.
 */
export function readScriptKills(dir: string): RunEvent[] {
  const out: RunEvent[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('worker-') && n.endsWith('.log'))) {
    for (const line of readJsonLines<Record<string, unknown>>(join(dir, f))) {
      if (line.msg !== 'run finished' || !/^script killed by /.test(String(line.error ?? ''))) continue;
      const fireId = String(line.fire ?? '');
      const fire = fireId.slice(fireId.indexOf('@') + 1, fireId.lastIndexOf('#'));
      out.push({
        event: 'aborted', worker: String(line.worker ?? ''), pid: Number(line.pid), job: String(line.job), item: Number(line.item),
        fire, attempt: Number(line.attempt), token: '', at: Date.parse(String(line.time)), reason: String(line.error),
      });
    }
  }
  return out;
}

/** Reads the workers' session events and recorded missed/skipped notes from their JSON logs. */
export function readWorkerLogs(dir: string): { sessions: SessionEvent[]; notes: RecordedNote[] } {
  const sessions: SessionEvent[] = [];
  const notes: RecordedNote[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('worker-') && n.endsWith('.log'))) {
    for (const line of readJsonLines<Record<string, unknown>>(join(dir, f))) {
      const at = Date.parse(String(line.time));
      const worker = String(line.worker ?? '');
      const pid = Number(line.pid);
      if (line.msg === 'registered as member') sessions.push({ worker, pid, at, kind: 'joined', member: String(line.member) });
      else if (line.msg === 'session state' && (line.state === 'lost' || line.state === 'expired')) sessions.push({ worker, pid, at, kind: 'lost' });
      else if (line.msg === 'recorded fires not run') {
        // One line per turn with every item's note (`notes`); workers before it wrote a line per item.
        const each = Array.isArray(line.notes) ? (line.notes as Array<Record<string, unknown>>) : [line];
        for (const n of each) notes.push({ job: String(n.job), item: Number(n.item), outcome: n.outcome === 'skipped' ? 'skipped' : 'missed', count: Number(n.count), latest: String(n.latest), at });
      }
    }
  }
  return { sessions, notes };
}

function readJsonLines<T>(file: string): T[] {
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      /* a line cut by a kill */
    }
  }
  return out;
}
