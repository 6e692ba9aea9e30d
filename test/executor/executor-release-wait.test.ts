import { describe, expect, it } from 'vitest';
import type { FireRequest } from '../../src/executor/executor.js';
import type { BeginRequest, BeginResult, ReleaseRequest } from '../../src/executor/run-ledger.js';
import type { JobContext } from '../../src/executor/job-context.js';
import type { OverlapPolicy } from '../../src/config/job-definition.js';
import { waitFor } from '../support/wait-for.js';
import { ledgerExecutor } from '../support/ledger-executor.js';

/**
 * A ledger that grants every begin at once and holds every release until `answerReleases()`: a
 * ZooKeeper that stalls after the handlers ended (the soak of 2026-12-03 lost a whole instant on
 * all four workers that way: every fire skipped as if its item still ran).
 */
class StallingLedger {
  readonly begins: BeginRequest[][] = [];
  readonly releases: ReleaseRequest[] = [];
  private waiting: Array<() => void> = [];
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    this.begins.push([...requests]);
    return requests.map(() => ({ status: 'started', token: '1', notes: {} }));
  }
  async release(req: ReleaseRequest): Promise<boolean> {
    this.releases.push(req);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return true;
  }
  answerReleases(): void {
    for (const answer of this.waiting.splice(0)) answer();
  }
  async recordAttempt(): Promise<void> {}
}

function setUp(overlap: OverlapPolicy, handler: (ctx: JobContext) => Promise<void> | void) {
  const ledger = new StallingLedger();
  const executor = ledgerExecutor(ledger, handler, { job: { overlap } });
  const entered: string[] = [];
  const notStarted: string[] = [];
  executor.on('started', (req) => entered.push(`${req.item}@${req.fireTime.getTime()}`));
  executor.on('notStarted', (req, why) => notStarted.push(`${req.item}@${req.fireTime.getTime()}:${why}`));
  return { ledger, executor, entered, notStarted };
}

const request = (item: number, fireTime: Date, after?: Date): FireRequest => ({ job: 'j', item, fireTime, attempt: 1, reason: 'schedule', after });

describe('Executor: a fire due while its item is only being released', () => {
  for (const overlap of ['skip', 'replace', 'queue'] as const) {
    it(`overlap ${overlap}: runs once the release is written, not skipped as if the item still ran`, async () => {
      const { ledger, executor, entered, notStarted } = setUp(overlap, () => {});
      const first = new Date(Date.now() - 1000);
      await executor.fire([request(0, first), request(1, first)]);
      await waitFor(() => ledger.releases.length === 2, { message: 'both handlers ended, their releases unanswered' });
      expect(executor.ledgerWaits()).toEqual({ begin: 0, release: 2 });
      const next = new Date(Date.now() - 1);
      await executor.fire([request(0, next, first), request(1, next, first)]);
      expect(notStarted).toEqual([]);
      expect(ledger.begins).toHaveLength(1); // nothing begun before the releases are written
      ledger.answerReleases();
      await waitFor(() => entered.length === 4, { message: 'the next fire of both items ran' });
      expect(entered.slice(2).sort()).toEqual([`0@${next.getTime()}`, `1@${next.getTime()}`]);
      // Both begun in one ledger call (one multi), as the batch they came in.
      expect(ledger.begins).toHaveLength(2);
      expect(ledger.begins[1]!.map((r) => r.item).sort()).toEqual([0, 1]);
      expect(notStarted).toEqual([]);
      ledger.answerReleases();
      await waitFor(() => !executor.isBusy('j', 0) && !executor.isBusy('j', 1), { message: 'settled' });
    });
  }

  it('keeps one fire waiting on a long stall: the newest, with the ones it displaced recorded as skipped', async () => {
    const { ledger, executor, entered, notStarted } = setUp('skip', () => {});
    const t0 = Date.now() - 3000;
    await executor.fire([request(0, new Date(t0))]);
    await waitFor(() => ledger.releases.length === 1, { message: 'released, unanswered' });
    await executor.fire([request(0, new Date(t0 + 1000), new Date(t0))]);
    await executor.fire([request(0, new Date(t0 + 2000), new Date(t0 + 1000))]);
    ledger.answerReleases();
    await waitFor(() => entered.length === 2, { message: 'the newest fire ran' });
    expect(entered[1]).toBe(`0@${t0 + 2000}`);
    const begun = ledger.begins[1]![0]!;
    expect(begun.skipped).toEqual({ count: 1, latest: new Date(t0 + 1000) });
    expect(begun.after).toEqual(new Date(t0)); // its claim reaches back through the one it displaced
    expect(notStarted).toEqual([]);
    ledger.answerReleases();
  });

  it('a fire prepared ahead of its instant never displaces a due fire waiting for the release: both run, in order', async () => {
    // ZooKeeper frozen for 1.5 s (SIGSTOP) on a fleet at 1,000 × 8: one worker prepared the fires
    // of the next second while those of this second still waited for the releases, and recorded
    // a whole instant as skipped.
    const { ledger, executor, entered, notStarted } = setUp('skip', () => {});
    const t0 = Date.now() - 1500;
    await executor.fire([request(0, new Date(t0))]);
    await waitFor(() => ledger.releases.length === 1, { message: 'released, unanswered' });
    const due = new Date(t0 + 1000);
    await executor.fire([request(0, due, new Date(t0))]);
    const ahead = new Date(Date.now() + 400);
    await executor.fire([request(0, ahead, due)]);
    ledger.answerReleases();
    await waitFor(() => entered.length === 2, { message: 'the due fire ran' });
    expect(entered[1]).toBe(`0@${due.getTime()}`);
    expect(ledger.begins[1]![0]!.skipped).toBeUndefined();
    await waitFor(() => ledger.releases.length === 2, { message: 'the due fire released' });
    ledger.answerReleases();
    await waitFor(() => entered.length === 3, { message: 'the fire prepared ahead ran at its instant' });
    expect(entered[2]).toBe(`0@${ahead.getTime()}`);
    expect(notStarted).toEqual([]);
    ledger.answerReleases();
    await waitFor(() => !executor.isBusy('j', 0), { message: 'settled' });
  });

  it('still skips a fire while the handler itself runs (overlap skip)', async () => {
    let finish: () => void = () => {};
    const running = new Promise<void>((resolve) => (finish = resolve));
    const { ledger, executor, notStarted } = setUp('skip', (ctx) => (ctx.fireTime.getTime() < Date.now() - 500 ? running : undefined));
    const first = new Date(Date.now() - 1000);
    await executor.fire([request(0, first)]);
    await waitFor(() => executor.running === 1, { message: 'running' });
    const next = new Date(Date.now() - 1);
    await executor.fire([request(0, next, first)]);
    expect(notStarted).toEqual([`0@${next.getTime()}:overlap`]);
    finish();
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    ledger.answerReleases();
    await waitFor(() => !executor.isBusy('j', 0), { message: 'settled' });
    expect(ledger.begins).toHaveLength(1);
  });

  it('begins nothing that waited once the executor stops accepting', async () => {
    const { ledger, executor, entered } = setUp('skip', () => {});
    const first = new Date(Date.now() - 1000);
    await executor.fire([request(0, first)]);
    await waitFor(() => ledger.releases.length === 1, { message: 'released, unanswered' });
    await executor.fire([request(0, new Date(Date.now() - 1), first)]);
    executor.stopAccepting();
    ledger.answerReleases();
    await waitFor(() => !executor.isBusy('j', 0), { message: 'settled' });
    expect(ledger.begins).toHaveLength(1);
    expect(entered).toHaveLength(1);
  });
});
