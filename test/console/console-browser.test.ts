import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { Fleet, fleetConfig, RECORD_HANDLER } from '../support/worker-process.js';
import { zkConnect } from '../support/zk-connect.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { repoRoot } from '../../src/testing/worker-fleet.js';
import type { ConsoleApp } from '../../src/console/console-app.js';
import { startConsole, ConsoleClient } from './console-fixture.js';
import { launchBrowser } from './browser.js';

const UI = join(repoRoot(), 'dist', 'ui');
const YEARLY = '0 0 0 1 1 *';
const job = (name: string, shards: number) => ({ name, cron: YEARLY, shards, handler: RECORD_HANDLER, jobParameter: 'sleepMs=300' });

/** The owners shown in the item grid of the job page open in `page`. */
async function gridOwners(page: Page): Promise<string[]> {
  return page.locator('table.grid tbody tr td[data-owner]').allTextContents();
}

describe('console in a browser: real ZooKeeper, real worker processes, the real console', () => {
  const ctx = new ZkTestContext('console-ui');
  let fleet: Fleet;
  let app: ConsoleApp;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  const login = async (user: string, password = `${user}-password`) => {
    await page.goto(`${app.url}/#/`);
    if (await page.getByRole('button', { name: 'Log out' }).isVisible().catch(() => false)) {
      await page.getByRole('button', { name: 'Log out' }).click();
    }
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  };
  /** Marks the page: the mark survives only if nothing reloads it. */
  const mark = () => page.evaluate(() => ((globalThis as unknown as { noReload: boolean }).noReload = true));
  const marked = () => page.evaluate(() => (globalThis as unknown as { noReload?: boolean }).noReload === true);

  beforeAll(async () => {
    if (!existsSync(join(UI, 'index.html'))) throw new Error(`${UI} is missing: run npm run build`);
    fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [job('orders', 6), job('billing', 2)]));
    for (const id of ['w1', 'w2', 'w3']) fleet.start(id);
    app = await startConsole(zkConnect(), ctx.namespace);
    const probe = new ConsoleClient(app.url!);
    await probe.login('viewer');
    const { waitFor } = await import('../support/wait-for.js');
    await waitFor(async () => {
      const r = await probe.get('/api/v1/workers');
      const j = await probe.get('/api/v1/jobs/orders');
      return r.status === 200 && r.body.length === 3 && j.status === 200 && j.body.items.every((i: { owner: string | null }) => i.owner !== null) && new Set(j.body.items.map((i: { owner: string }) => i.owner)).size === 3;
    }, { timeoutMs: 30_000, message: 'three workers owning the items of orders' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await fleet?.close();
    await ctx.close();
  });

  it('refuses a wrong password with one message', async () => {
    await login('operator', 'wrong-password');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('wrong user name or password');
    expect(await page.getByRole('navigation').count()).toBe(0);
  });

  it('a viewer sees the fleet and no action; its API calls get 403', async () => {
    await login('viewer');
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'orders' }).click();
    await expect.poll(() => gridOwners(page).then((o) => o.length)).toBe(6);
    expect(await page.getByRole('button', { name: /Trigger|Disable|Move|Reshard|Preview|Edit definition/ }).count()).toBe(0);
    await page.getByRole('link', { name: 'Workers' }).click();
    await expect.poll(() => page.locator('tr[data-worker]').count()).toBe(3);
    expect(await page.getByRole('button', { name: /Drain/ }).count()).toBe(0);
    const status = await page.evaluate(async () => {
      const s = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
      const r = await fetch('/api/v1/jobs/orders/trigger', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: '{}' });
      return r.status;
    });
    expect(status).toBe(403);
  });

  it('an operator triggers an item and sees the run appear', async () => {
    await login('operator');
    await page.goto(`${app.url}/#/jobs/orders`);
    await expect.poll(() => gridOwners(page).then((o) => o.length)).toBe(6);
    await mark();
    await page.getByRole('button', { name: 'Trigger item 2' }).click();
    const row = page.locator('table.grid tbody tr[data-item="2"]');
    // While it runs: its worker and its fencing token (the page has the job open: its items are watched).
    const stateAndToken = () => row.locator('td').evaluateAll((tds) => `${tds[2]?.textContent}|${tds[7]?.textContent}`);
    await expect.poll(stateAndToken, { timeout: 15_000 }).toMatch(/^running on w\d\|\d+$/);
    await expect.poll(() => row.locator('td').nth(4).textContent(), { timeout: 15_000 }).toBe('success');
    await expect.poll(() => page.locator('aside.strip').textContent()).toMatch(/orders#2 success on w\d/);
    expect(await marked()).toBe(true);
  });

  it('the jobs list filters by the last outcome of the items', async () => {
    await page.getByRole('link', { name: 'Jobs' }).click();
    const names = () => page.locator('main table tbody th[scope="row"]').allTextContents();
    await expect.poll(names).toEqual(['billing', 'orders']);
    // orders#2 ran (above): its last outcome is success; billing never ran.
    await expect.poll(() => page.locator('main table tbody tr').filter({ hasText: 'orders' }).locator('td[data-outcomes]').textContent()).toBe('1 success');
    await page.getByLabel("An item's last outcome").selectOption('success');
    await expect.poll(names).toEqual(['orders']);
    await page.getByLabel("An item's last outcome").selectOption('failed');
    await expect.poll(names).toEqual([]);
    await expect.poll(() => page.locator('main p.count').textContent()).toBe('0 of 2 jobs');
    await page.getByLabel("An item's last outcome").selectOption('');
    await expect.poll(names).toEqual(['billing', 'orders']);
  });

  it('an action without the CSRF header is refused', async () => {
    const r = await page.evaluate(async () => (await (await fetch('/api/v1/jobs/orders/disable', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { code: string });
    expect(r.code).toBe('CSRF_REFUSED');
  });

  it('drains a worker and watches its items move without reloading', async () => {
    await page.getByRole('link', { name: 'Workers' }).click();
    await mark();
    await page.getByRole('button', { name: 'Drain w1' }).click();
    const state = page.locator('tr[data-worker="w1"] td[data-state]');
    await expect.poll(() => state.textContent(), { timeout: 20_000 }).toBe('drained');
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'orders' }).click();
    await expect.poll(() => gridOwners(page), { timeout: 20_000 }).not.toContain('w1');
    expect(await marked()).toBe(true);
  });

  it('a worker SIGKILLed by the test shows its items move live', async () => {
    await expect.poll(() => gridOwners(page).then((o) => o.filter((x) => x.startsWith('w3')).length)).toBeGreaterThan(0);
    await mark();
    fleet.workers.find((w) => w.id === 'w3')!.kill('SIGKILL');
    await expect.poll(() => gridOwners(page), { timeout: 30_000 }).toEqual(Array(6).fill('w2'));
    expect(await marked()).toBe(true);
  });

  it('reshard shows its dry-run diff, then applies', async () => {
    await page.goto(`${app.url}/#/jobs/billing`);
    await expect.poll(() => gridOwners(page).then((o) => o.length)).toBe(2);
    await page.getByLabel('Number of items').fill('4');
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('table', { name: 'Reshard preview' });
    await expect.poll(() => preview.locator('tbody tr.new').count()).toBe(2);
    expect(await gridOwners(page)).toHaveLength(2); // nothing written yet
    await page.getByRole('button', { name: 'Apply reshard to 4 items' }).click();
    await expect.poll(() => gridOwners(page), { timeout: 20_000 }).toEqual(Array(4).fill('w2'));
  });

  it('an admin\'s malformed definition edit is refused with the message; a valid one is saved', async () => {
    await login('admin');
    await page.goto(`${app.url}/#/jobs/billing`);
    await page.getByRole('button', { name: 'Edit definition' }).click();
    const text = page.getByLabel(/Job definition/);
    const original = await text.inputValue();
    await text.fill(original.replace(`"cron": "${YEARLY}"`, '"cron": "every tuesday"'));
    await page.getByRole('button', { name: 'Check and show changes' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/cron.*every tuesday/);
    await text.fill(original.replace('"jobParameter": "sleepMs=300"', '"jobParameter": "sleepMs=200"'));
    await page.getByRole('button', { name: 'Check and show changes' }).click();
    await expect.poll(() => page.getByRole('table', { name: 'Definition changes' }).textContent()).toMatch(/jobParameter.*sleepMs=300.*sleepMs=200/);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'definition saved' }).count()).toBe(1);
  });

  it('has no serious or critical accessibility violations (axe)', async () => {
    const problems: string[] = [];
    for (const path of ['#/', '#/jobs', '#/jobs/orders', '#/workers', '#/runs', '#/audit']) {
      await page.goto(`${app.url}/${path}`);
      await page.locator('main h1').first().waitFor();
      await page.getByText('Loading…').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
      const result = await new AxeBuilder({ page }).analyze();
      expect(result.passes.length, `axe ran its rules on ${path}`).toBeGreaterThan(10);
      for (const v of result.violations) {
        if (v.impact === 'serious' || v.impact === 'critical') problems.push(`${path}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n: { target: unknown[] }) => n.target.join(' ')).join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
