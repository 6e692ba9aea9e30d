/**
 * Screenshots of the web console for docs/CONSOLE.md, taken from a real run: `npm run demo --
 * --duration 60 --screenshots docs/console` calls {@link takeScreenshots} once the fleet has run a
 * little. Drives Debian's Chromium (`/usr/bin/chromium`, scripts/install-chromium.sh) headless
 * through playwright-core, with a fresh profile removed afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Logs in as `user` and saves one PNG per page into `dir`; returns the files written. */
export async function takeScreenshots(url: string, user: string, password: string, dir: string): Promise<string[]> {
  const { chromium } = await import('playwright-core');
  mkdirSync(dir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'zkshard-screenshots-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 1280, height: 860 },
  });
  const written: string[] = [];
  try {
    const page = await context.newPage();
    const base = url.replace(/\/$/, '');
    await page.goto(`${base}/`);
    const shot = async (name: string) => {
      const file = join(dir, `${name}.png`);
      await page.screenshot({ path: file });
      written.push(file);
    };
    await shot('login');
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Loading…').first().waitFor({ state: 'detached' }).catch(() => undefined);
    await shot('overview');
    for (const [hash, name] of [['#/jobs', 'jobs'], ['#/workers', 'workers'], ['#/runs', 'runs'], ['#/audit', 'audit']] as const) {
      await page.goto(`${base}/${hash}`);
      await page.locator('main h1').first().waitFor();
      await page.getByText('Loading…').first().waitFor({ state: 'detached' }).catch(() => undefined);
      await shot(name);
    }
    await page.goto(`${base}/#/jobs`);
    const first = page.locator('table tbody th a').first();
    await first.waitFor();
    await first.click();
    await page.locator('table.grid').waitFor();
    await page.waitForTimeout(1500); // let a few live runs show in the grid and the event strip
    await shot('job');
    const shards = page.getByLabel('Number of items');
    if (await shards.isVisible().catch(() => false)) {
      await shards.fill(String(Number(await shards.inputValue()) + 2));
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.getByRole('table', { name: 'Reshard preview' }).waitFor();
      await page.getByRole('table', { name: 'Reshard preview' }).scrollIntoViewIfNeeded();
      await shot('reshard-preview');
    }
  } finally {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
  return written;
}
