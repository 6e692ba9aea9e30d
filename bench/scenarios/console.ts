import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ConsoleApp } from '../../src/console/console-app.js';
import { hashPassword } from '../../src/console/password-hash.js';
import { BenchFleet } from '../lib/bench-fleet.js';
import { startBenchZooKeeper } from '../lib/bench-zookeeper.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import { benchJobs } from './lateness.js';

/** A page is usable when this shows (after navigation). */
const PAGES = [
  { name: 'overview', hash: '#/', ready: 'dl.cards' },
  { name: 'jobs', hash: '#/jobs', ready: 'table tbody tr' },
  { name: 'job', hash: '#/jobs/j00000', ready: 'table.grid tbody tr[data-item="7"]' },
] as const;

/**
 * The console at scale, measured in the browser (Debian's Chromium through playwright-core):
 * 1,000 jobs × 8 items firing every second on 4 worker processes (quick: 100 × 8 on 2). How long
 * the console takes to load the fleet into its watches; how long after navigation the overview,
 * jobs and job pages are usable (their content shown), repeatedly; how far behind the fleet the
 * event stream and the job page's live grid are while every item fires every second.
 */
export const consoleScenario: Scenario = {
  name: 'console',
  summary: 'web console at 1,000 jobs × 8 items: page usable after navigation, event and grid lag, in Chromium',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const jobs = ctx.quick ? 100 : 1000;
    const workers = ctx.quick ? 2 : 4;
    const items = 8;
    const repeats = ctx.quick ? 3 : 10;
    const zk = await startBenchZooKeeper(ctx.cleanup, join(ctx.dir, 'console-zk'));
    const fleet = new BenchFleet({ connect: zk.connectString, namespace: 'bench', dir: join(ctx.dir, 'console'), jobs: benchJobs(jobs, items), workers }, ctx.cleanup);
    await fleet.start();
    await fleet.waitSteady(60_000 + jobs * items * 5, ctx.signal);
    ctx.log(`${jobs} × ${items} on ${workers} workers steady; starting the console`);
    const password = 'bench-console-password';
    const t0 = performance.now();
    const app = new ConsoleApp({ connect: zk.connectString, namespace: 'bench', users: [{ name: 'bench', role: 'operator', passwordHash: await hashPassword(password) }], logger: silentLogger(), host: '127.0.0.1', port: 0 });
    ctx.cleanup.add('console', () => app.close());
    const url = await app.start();
    const loadMs = performance.now() - t0;
    ctx.log(`console up in ${ms(loadMs)} (the whole fleet in its watches)`);

    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'zkshard-bench-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    ctx.cleanup.add('chromium', async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    });
    const usable: Record<string, number[]> = Object.fromEntries(PAGES.map((p) => [p.name, []]));
    let eventLag: Summary;
    let gridLag: Summary;
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.getByLabel('User name').fill('bench');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('dl.cards').waitFor({ timeout: 120_000 });
      // Navigation as a person does it (the single-page app is loaded): from another page to this one.
      for (let r = 0; r < repeats && !ctx.signal.aborted; r++) {
        for (const p of PAGES) {
          await page.evaluate(() => { (globalThis as unknown as { location: { hash: string } }).location.hash = '#/audit'; });
          await page.locator('main h1').waitFor({ timeout: 60_000 });
          const start = Date.now();
          await page.evaluate((h) => { (globalThis as unknown as { location: { hash: string } }).location.hash = h; }, p.hash);
          // Not usable within 30 s counts as 30 s (and fails the target), rather than ending the run.
          await page.locator(p.ready).first().waitFor({ timeout: 30_000 }).catch(() => undefined);
          usable[p.name]!.push(Date.now() - start);
        }
      }
      // Lag while everything fires every second: each run's start event, against its fire time
      // (includes the fire's own lateness), seen by a second EventSource in the page; and the job
      // page's grid: how old the newest "last fire" it shows is, sampled every 250 ms.
      await page.evaluate(() => { (globalThis as unknown as { location: { hash: string } }).location.hash = '#/jobs/j00000'; });
      await page.locator('table.grid tbody tr[data-item="7"]').waitFor({ timeout: 60_000 });
      const windowMs = ctx.quick ? 10_000 : 30_000;
      await page.evaluate(() => {
        const w = globalThis as unknown as { lags: number[]; es: EventSource };
        w.lags = [];
        w.es = new EventSource('/api/v1/events');
        w.es.addEventListener('run', (m) => {
          const d = JSON.parse((m as MessageEvent).data) as { fireTime: string; outcome?: string };
          if (d.outcome === undefined) w.lags.push(Date.now() - Date.parse(d.fireTime));
        });
      });
      const gridSamples: number[] = [];
      const end = Date.now() + windowMs;
      while (Date.now() < end && !ctx.signal.aborted) {
        const newest = await page.evaluate(() => {
          const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ textContent: string | null }> } }).document;
          const cells = [...doc.querySelectorAll('table.grid tbody tr td:nth-child(5)')].map((td) => Date.parse(`${(td.textContent ?? '').replace(' ', 'T')}Z`)).filter((t) => !Number.isNaN(t));
          return cells.length ? Math.max(...cells) : null;
        });
        if (newest !== null) gridSamples.push(Date.now() - newest);
        await sleepUnlessAborted(250, ctx.signal);
      }
      const lags = await page.evaluate(() => (globalThis as unknown as { lags: number[] }).lags);
      eventLag = summarize(lags);
      gridLag = summarize(gridSamples);
    } finally {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
      await app.close();
      await fleet.close();
      await zk.close();
    }
    const pageSummaries = Object.fromEntries(Object.entries(usable).map(([k, v]) => [k, summarize(v)]));
    const worst = Math.max(...Object.values(pageSummaries).map((s) => s.max));
    return {
      scenario: 'console',
      params: { jobs, items, workers, repeats, cron: 'every second' },
      tables: [
        {
          title: `Console at ${jobs} jobs × ${items} items (${workers} workers, every item every second): page usable after navigation`,
          columns: ['page', 'n', 'p50', 'max'],
          rows: Object.entries(pageSummaries).map(([k, s]) => [k, s.count, ms(s.p50), ms(s.max)]),
        },
        {
          title: 'Live: run start event in the browser after the fire time; newest "last fire" in the job grid behind now',
          columns: ['what', 'n', 'p50', 'p99', 'max'],
          rows: [
            ['run start event lag', eventLag.count, ms(eventLag.p50), ms(eventLag.p99), ms(eventLag.max)],
            ['job grid staleness', gridLag.count, ms(gridLag.p50), ms(gridLag.p99), ms(gridLag.max)],
          ],
        },
      ],
      targets: [{ what: 'overview, jobs and job pages usable after navigation', target: '≤ 1 s', measured: ms(worst), met: worst <= 1000 }],
      data: { consoleLoadMs: loadMs, pages: pageSummaries, eventLag, gridLag },
      notes: [
        `console load (every job and item read and watched): ${ms(loadMs)}`,
        'grid staleness includes up to 1 s by construction (the newest fire is at most one second old when the next is due), plus the shown fire time is the completion of the last run',
        'the console, the workers, ZooKeeper and Chromium share the machine',
      ],
    };
  },
};
