import type { Logger } from 'pino';
import type { Timers } from '../clock/clock.js';
import { LineBatch } from '../logging/line-batch.js';
import type { FireNotes } from './fire-note.js';

/** One item's fires not run, as recorded in its record and history. */
export interface RecordedNote {
  job: string;
  item: number;
  outcome: 'missed' | 'skipped';
  count: number;
  /** The latest of them (ISO). */
  latest: string;
}

/**
 * The log of what a worker recorded of fires not run: one line per turn, `recorded fires not run`
 * with every item's note (`notes`: the chaos checker accounts for fires by them) and their number.
 */
export class RecordedNotesLog {
  private readonly lines: LineBatch<RecordedNote>;

  constructor(log: Logger, timers: Pick<Timers, 'setImmediate'>) {
    this.lines = new LineBatch((notes) => log.info({ count: notes.length, notes }, 'recorded fires not run'), timers);
  }

  /** The item's notes were written. */
  recorded(job: string, item: number, notes: FireNotes): void {
    if (!notes.missed && !notes.skipped) return; // most begins
    for (const outcome of ['missed', 'skipped'] as const) {
      const note = notes[outcome];
      if (note) this.lines.add({ job, item, outcome, count: note.count, latest: note.latest.toISOString() });
    }
  }
}
