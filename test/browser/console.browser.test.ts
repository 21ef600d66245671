import axe from 'axe-core';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { launch, openPage, post, publish, skipBrowser, startHerald } from './browser.js';

// The operator's console (docs/dashboard.md): one Herald and one browser for the file, each test on its
// own subscription so their deliveries do not mix.
describe.skipIf(skipBrowser)('dashboard as the operator console', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  let receiver: Receiver;
  let failing = false;
  const pages: Page[] = [];

  beforeAll(async () => {
    browser = await launch();
    ({ app, base } = await startHerald());
    receiver = await startReceiver(() => (failing ? { status: 500, body: 'boom: ledger locked' } : { status: 204 }));
  });
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await app?.close();
  });

  async function dashboard(viewport = { width: 1440, height: 900 }): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage(browser, { viewport });
    pages.push(opened.page);
    await opened.page.goto(`${base}/`);
    await opened.page.locator('#connection[data-state="live"]').waitFor();
    return opened;
  }

  /** A subscription with a delivery, for the tests that look at a filled page. */
  let seeded: Promise<unknown> | undefined;
  const seed = () => (seeded ??= (async () => {
    await post(base, '/subscriptions', { subscriber_name: 'ops', event_types: ['ops.*'], callback_url: receiver.url });
    await publish(base, { event_type: 'ops.check', source: 'a-rather-long-agent-name', target: 'ops-team', payload: { message: 'x'.repeat(300) } });
    await publish(base, { event_type: 'ops.check', source: 'monitor', payload: { disk: 0.91 } });
  })());

  const deliveryRow = (page: Page, seq: number, status: string) =>
    page.locator(`#deliveries tr[data-status="${status}"]`, { hasText: `#${seq} ` });

  it('creates a subscription, publishes from the form, and follows its delivery through a failure and a retry', async () => {
    const { page, errors } = await dashboard();
    await page.getByRole('button', { name: 'New subscription' }).click();
    const dialog = page.locator('#sub-dialog');
    // Herald's validation errors land in the form, the field marked.
    await dialog.getByLabel('Event types').fill('Not A Type');
    await dialog.getByLabel('Name').fill('billing');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('.errors li', { hasText: 'event_types' }).first().waitFor();
    expect(await dialog.getByLabel('Event types').getAttribute('aria-invalid')).toBe('true');

    await dialog.getByLabel('Event types').fill('task_*');
    await dialog.getByLabel('Callback URL').fill(receiver.url);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('#subscriptions .sub.selected', { hasText: 'billing' }).waitFor();
    const secret = page.locator('#deliveries .secret-value');
    expect(await secret.textContent()).toMatch(/^whsec_/);

    // Published from the form; the delivery shows up without a reload or a poll interval.
    const publishForm = page.locator('#publish');
    await publishForm.getByLabel('Event (JSON)').fill('{"event_type": "task_completed", "source": "agent-1"}');
    await publishForm.getByRole('button', { name: 'Publish' }).click();
    const stored = Number((await publishForm.locator('.result').filter({ hasText: 'Stored as' }).textContent())?.match(/#(\d+)/)?.[1]);
    await deliveryRow(page, stored, 'delivered').waitFor();

    // A schema error is shown under the form and nothing is stored.
    await publishForm.getByLabel('Event (JSON)').fill('{"event_type": "task_completed"}');
    await publishForm.getByRole('button', { name: 'Publish' }).click();
    await publishForm.locator('.errors li', { hasText: 'source' }).first().waitFor();

    failing = true;
    await publishForm.getByLabel('Event (JSON)').fill('{"event_type": "task_failed", "source": "agent-1", "max_retries": 0}');
    await publishForm.getByRole('button', { name: 'Publish' }).click();
    await publishForm.locator('.result', { hasText: `Stored as #${stored + 1}.` }).waitFor();
    const failed = deliveryRow(page, stored + 1, 'failed');
    await failed.waitFor();
    await failed.getByRole('button', { name: /attempts: show them/ }).click();
    const attempts = page.locator('#deliveries .attempts-row .attempt');
    await attempts.first().waitFor();
    expect(await attempts.first().textContent()).toContain('HTTP 500');
    expect(await attempts.first().locator('.attempt-body').textContent()).toBe('boom: ledger locked');
    await page.locator('#deliveries .health', { hasText: 'failing_since' }).waitFor();

    failing = false;
    await failed.getByRole('button', { name: 'Retry' }).click();
    await deliveryRow(page, stored + 1, 'delivered').waitFor();
    // The opened attempts stay open and now list both.
    await page.locator('#deliveries .attempts-row .attempt', { hasText: 'HTTP 204' }).waitFor();
    expect(await page.locator('#deliveries .attempts-row .attempt').count()).toBe(2);
    expect(receiver.requests.filter((r) => r.headers['webhook-id'] !== undefined)).toHaveLength(3);
    expect(errors).toEqual([]);
  }, 60_000);

  it('replays a subscription since a chosen time, pauses it and deletes it', async () => {
    const since = new Date(Date.now() - 1000).toISOString().slice(0, 19);
    const sub = await post<{ subscription_id: string }>(base, '/subscriptions', { subscriber_name: 'audit', event_types: ['audit.*'], callback_url: receiver.url });
    const first = await publish(base, { event_type: 'audit.login', source: 'auth' });
    const { page, errors } = await dashboard();
    await page.locator(`#subscriptions .sub[data-subscription-id="${sub.subscription_id}"] button`).click();
    await deliveryRow(page, first.seq, 'delivered').waitFor();

    await page.getByLabel('Replay since (UTC)').fill(since);
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.locator('#deliveries .replay-result', { hasText: '1 deliveries created' }).waitFor();
    await expect.poll(() => deliveryRow(page, first.seq, 'delivered').count()).toBe(2);

    await page.locator('#deliveries').getByRole('button', { name: 'Pause' }).click();
    await page.locator(`#subscriptions .sub[data-subscription-id="${sub.subscription_id}"] .badge`, { hasText: 'Paused' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.locator('#deliveries').getByRole('button', { name: 'Delete' }).click();
    await page.locator(`#subscriptions .sub[data-subscription-id="${sub.subscription_id}"]`).waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
  });

  it('fits a 360 px screen without horizontal scrolling', async () => {
    await seed();
    const { page, errors } = await dashboard({ width: 360, height: 740 });
    await page.locator('#deliveries tbody tr').first().waitFor();
    await page.locator('#history .event').first().waitFor();
    const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scrollWidth).toBe(clientWidth);
    expect(clientWidth).toBe(360);
    expect(errors).toEqual([]);
  });

  it('has no serious or critical accessibility violations, in light and dark mode', async () => {
    await seed();
    const { page } = await dashboard();
    await page.locator('#deliveries tbody tr').first().waitFor();
    await page.locator('#history .event').first().waitFor();
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      // Evaluated over the devtools protocol: the page's CSP allows no injected script tag, rightly.
      if (colorScheme === 'light') await page.evaluate(axe.source);
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: typeof axe }).axe.run(document);
        return result.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
      });
      expect(violations, colorScheme).toEqual([]);
    }
  });
});
