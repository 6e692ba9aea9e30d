import { describe, expect, it } from 'vitest';
import { NOTED_BEGINS_PER_CALL, type FireRequest } from '../../src/executor/executor.js';
import type { BeginRequest, BeginResult } from '../../src/executor/run-ledger.js';
import type { FireNote } from '../../src/executor/fire-note.js';
import { waitFor } from '../support/wait-for.js';
import { ledgerExecutor } from '../support/ledger-executor.js';

/**
 * A ledger that answers a begin of fires without notes at once and holds every begin of fires
 * with notes (whose begin writes the item's record and history) until `answerNoted()`: ZooKeeper
 * busy with such writes, as on a fleet that fell behind (10,000 × 8 bench: every lane of a worker
 * was being begun or released, none running, each begin a record and a history written).
 */
class NotedHoldingLedger {
  readonly begins: BeginRequest[][] = [];
  private held: Array<() => void> = [];
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    this.begins.push([...requests]);
    if (requests.some((r) => r.missed || r.skipped)) await new Promise<void>((resolve) => this.held.push(resolve));
    return requests.map(() => ({ status: 'started', token: '1', notes: {} }));
  }
  async release(): Promise<boolean> {
    return true;
  }
  async recordAttempt(): Promise<void> {}
  answerNoted(): void {
    for (const answer of this.held.splice(0)) answer();
  }
  get waitingCalls(): number {
    return this.held.length;
  }
}

function setUp() {
  const ledger = new NotedHoldingLedger();
  const executor = ledgerExecutor(ledger, () => {}, { job: { shards: 5000 } });
  const entered: string[] = [];
  const notStarted: string[] = [];
  executor.on('started', (req) => entered.push(`${req.item}@${req.fireTime.getTime()}`));
  executor.on('notStarted', (req, why) => notStarted.push(`${req.item}@${req.fireTime.getTime()}:${why}`));
  // Not awaited: a call that begins a fire with notes waits for the ledger's answer, held here.
  const fire = async (requests: FireRequest[], sequential = false): Promise<void> => {
    void executor.fire(requests, sequential);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { ledger, executor, entered, notStarted, fire };
}

const note = (latest: number): FireNote => ({ count: 1, latest: new Date(latest) });
const request = (item: number, fireMs: number, extra: Partial<FireRequest> = {}): FireRequest => ({ job: 'j', item, fireTime: new Date(fireMs), attempt: 1, reason: 'schedule', after: new Date(fireMs - 1000), ...extra });

describe('Executor: begins that record fires not run', () => {
  it('go one ledger call at a time; a fire without notes is never held behind them', async () => {
    const { ledger, executor, entered, fire } = setUp();
    const t = Date.now() - 5000;
    await fire([request(0, t, { skipped: note(t - 1000) })]);
    await fire([request(1, t, { missed: note(t - 1000) })]);
    expect(ledger.begins.map((call) => call.map((r) => r.item))).toEqual([[0]]); // item 1 waits for item 0's call
    expect(executor.isBusy('j', 1)).toBe(true);
    expect(executor.isStarting('j', 1)).toBe(true);
    expect(executor.ledgerWaits()).toEqual({ begin: 2, release: 0 }); // one sent, one waiting for its call
    await fire([request(2, t)]);
    expect(ledger.begins.map((call) => call.map((r) => r.item))).toEqual([[0], [2]]);
    await waitFor(() => entered.includes(`2@${t}`), { message: 'the fire without notes ran' });
    ledger.answerNoted();
    await waitFor(() => ledger.begins.length === 3, { message: 'the waiting begin sent once the one before it was answered' });
    expect(ledger.begins[2]!.map((r) => r.item)).toEqual([1]);
    ledger.answerNoted();
    await waitFor(() => entered.length === 3, { message: 'all three ran' });
    await waitFor(() => ![0, 1, 2].some((i) => executor.isBusy('j', i)), { message: 'settled' });
  });

  it(`sends at most ${NOTED_BEGINS_PER_CALL} of them in one call, the longest waiting first`, async () => {
    const { ledger, executor, fire } = setUp();
    const t = Date.now() - 5000;
    await fire([request(0, t, { skipped: note(t - 1000) })]);
    const many = Array.from({ length: NOTED_BEGINS_PER_CALL + 1 }, (_, k) => request(k + 1, t, { skipped: note(t - 1000) }));
    await fire(many);
    expect(ledger.begins).toHaveLength(1);
    ledger.answerNoted();
    await waitFor(() => ledger.begins.length === 2, { message: 'the next call' });
    expect(ledger.begins[1]!.map((r) => r.item)).toEqual(many.slice(0, NOTED_BEGINS_PER_CALL).map((r) => r.item));
    ledger.answerNoted();
    await waitFor(() => ledger.begins.length === 3, { message: 'the last one' });
    expect(ledger.begins[2]!.map((r) => r.item)).toEqual([NOTED_BEGINS_PER_CALL + 1]);
    ledger.answerNoted();
    await waitFor(() => ![...Array(NOTED_BEGINS_PER_CALL + 2).keys()].some((i) => executor.isBusy('j', i)), { message: 'settled' });
  });

  it('a due fire takes the place of a waiting one, which its begin records as skipped, its claim reaching back through it', async () => {
    const { ledger, executor, entered, notStarted, fire } = setUp();
    const t = Date.now() - 5000;
    await fire([request(0, t, { skipped: note(t - 1000) })]);
    await fire([request(1, t, { skipped: note(t - 1000), after: new Date(t - 2000) })]);
    await fire([request(1, t + 1000, { after: new Date(t) })]);
    await fire([request(1, t + 2000, { after: new Date(t + 1000) })]);
    expect(notStarted).toEqual([]);
    ledger.answerNoted();
    await waitFor(() => ledger.begins.length === 2, { message: 'the waiting begin sent' });
    const [sent] = ledger.begins[1]!;
    expect(sent!.fireTime).toEqual(new Date(t + 2000));
    expect(sent!.skipped).toEqual({ count: 3, latest: new Date(t + 1000), earliest: new Date(t - 1000) });
    expect(sent!.after).toEqual(new Date(t - 2000));
    ledger.answerNoted();
    await waitFor(() => entered.includes(`1@${t + 2000}`), { message: 'the newest fire ran' });
    expect(entered.filter((e) => e.startsWith('1@'))).toEqual([`1@${t + 2000}`]);
  });

  it('a fire of a re-run, a trigger or a catch-up is not held: only scheduled fires take each other\'s place', async () => {
    const { ledger, executor, fire } = setUp();
    const t = Date.now() - 5000;
    await fire([request(0, t, { skipped: note(t - 1000) })]);
    await fire([request(1, t, { missed: note(t - 1000), reason: 'misfire' })], true);
    expect(ledger.begins.map((call) => call.map((r) => r.item))).toEqual([[0], [1]]);
    ledger.answerNoted();
    await waitFor(() => ![0, 1].some((i) => executor.isBusy('j', i)), { message: 'settled' });
  });

  it('begins none of the waiting ones once the executor stops accepting, and frees their items', async () => {
    const { ledger, executor, entered, fire } = setUp();
    const t = Date.now() - 5000;
    await fire([request(0, t, { skipped: note(t - 1000) })]);
    await fire([request(1, t, { skipped: note(t - 1000) })]);
    executor.stopAccepting();
    expect(executor.isBusy('j', 1)).toBe(false);
    ledger.answerNoted();
    await waitFor(() => !executor.isBusy('j', 0), { message: 'settled' });
    expect(ledger.begins).toHaveLength(1);
    expect(entered).toEqual([]); // item 0 was begun, but the executor stopped accepting meanwhile: given back
  });
});
