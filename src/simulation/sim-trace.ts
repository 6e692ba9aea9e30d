/**
 * The record of a simulated run: one line per thing that happened (a request reaching the server,
 * its result, a watch event, a fault, a state change), stamped with virtual time. Two runs with the
 * same seed give the same lines, byte for byte; a failing seed's trace replays exactly.
 */
export class SimTrace {
  readonly lines: string[] = [];

  /** @param now virtual monotonic time, in ms */
  constructor(private readonly now: () => number) {}

  record(who: string, what: string): void {
    this.lines.push(`${this.now().toFixed(3)} ${who} ${what}`);
  }

  toString(): string {
    return this.lines.join('\n');
  }
}
