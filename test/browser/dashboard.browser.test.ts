import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../helpers/receiver.js';
import { launch, openPage, post, publish, skipBrowser, startHerald } from './browser.js';

describe.skipIf(skipBrowser)('dashboard in a real browser', () => {
  let browser: Browser;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function herald(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; base: string }> {
    const started = await startHerald(env);
    cleanups.push(() => started.app.close());
    return started;
  }

  async function dashboard(base: string): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage(browser, { viewport: { width: 1440, height: 900 } });
    cleanups.push(() => opened.page.close());
    await opened.page.goto(`${base}/`);
    return opened;
  }

  const connected = (page: Page) => page.locator('#connection[data-state="live"]').waitFor();

  /** Waits until the rows of `list` show exactly these seqs, top to bottom; says what it saw if they never do. */
  async function expectSeqs(page: Page, list: '#live' | '#history', want: number[]): Promise<void> {
    const read = () => page.locator(`${list} .event`).evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset.seq)));
    try {
      await page.waitForFunction(
        ([selector, expected]) => JSON.stringify([...document.querySelectorAll(selector)].map((row) => Number((row as HTMLElement).dataset.seq))) === expected,
        [`${list} .event`, JSON.stringify(want)] as const,
        { timeout: 5000 },
      );
    } catch {
      expect(await read(), `${list} rows`).toEqual(want);
    }
  }

  const desc = (events: Array<{ seq: number }>) => events.map((e) => e.seq).sort((a, b) => b - a);

  it('shows a published event within 1 s, as text, and counts it in the rates; pause holds events back', async () => {
    const { base } = await herald();
    const { page, errors } = await dashboard(base);
    await connected(page);
    expect(await page.locator('#connection .text').textContent()).toBe('Live');

    const started = Date.now();
    const first = await publish(base, { event_type: 'task_progress', source: 'agent-1', payload: { progress: 0.5 } });
    await page.locator(`#live .event[data-seq="${first.seq}"]`).waitFor({ timeout: Math.max(1, 1000 - (Date.now() - started)) });
    expect(Date.now() - started).toBeLessThan(1000);
    const text = await page.locator(`#live .event[data-seq="${first.seq}"]`).textContent();
    expect(text).toContain('task_progress');
    expect(text).toContain('agent-1');
    expect(text).toContain('{"progress":0.5}');

    // Event content is data, never markup.
    const hostile = await publish(base, {
      event_type: 'custom', source: '<b id="bold-source">mallory</b>',
      payload: { html: '<img src="x" id="pwned" onerror="document.title=\'pwned\'">' },
    });
    const hostileRow = page.locator(`#live .event[data-seq="${hostile.seq}"]`);
    await hostileRow.waitFor();
    expect(await hostileRow.textContent()).toContain('<b id="bold-source">mallory</b>');
    await hostileRow.locator('.ev-summary').click();
    expect(await hostileRow.locator('.ev-json').textContent()).toContain('<img src=\\"x\\" id=\\"pwned\\"');
    expect(await page.locator('#pwned, #bold-source').count()).toBe(0);
    expect(await page.title()).toBe('Herald');

    // Rates: both arrivals counted, and the events/s figure moves on the next tick.
    await page.locator('#received', { hasText: /^2$/ }).waitFor();
    await page.waitForFunction(() => Number(document.querySelector('#rate')?.textContent) > 0);

    await page.getByRole('button', { name: 'Pause' }).click();
    const held = await publish(base, { event_type: 'task_completed', source: 'agent-1' });
    await page.getByRole('button', { name: 'Resume (1 new)' }).waitFor();
    expect(await page.locator(`#live .event[data-seq="${held.seq}"]`).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume (1 new)' }).click();
    await expectSeqs(page, '#live', [held.seq, hostile.seq, first.seq]);
    expect(errors).toEqual([]);
  });

  it('reconnects after the server closes the socket and resumes from the last seq, without gaps or duplicates', async () => {
    const { app, base } = await herald();
    const before = await publish(base, { event_type: 'task_started', source: 'agent-1' });
    const { page, errors } = await dashboard(base);
    await connected(page);
    await expectSeqs(page, '#live', [before.seq]);

    for (const connection of app.stream.connections) connection.close(4000, 'slow consumer (test)');
    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push(await publish(base, { event_type: 'task_progress', source: 'agent-1', payload: { i } }));
    await connected(page);
    const after = await publish(base, { event_type: 'task_completed', source: 'agent-1' });
    await expectSeqs(page, '#live', desc([before, ...missed, after]));
    expect(errors).toEqual([]);
  });

  it('filters the live list and history by type, source and priority', async () => {
    const { base } = await herald();
    const published = [];
    for (const [event_type, source, priority] of [
      ['task_started', 'agent-a', 'low'], ['system_alert', 'agent-b', 'critical'], ['task_progress', 'agent-a', 'high'],
      ['system_alert', 'agent-a', 'normal'], ['task_completed', 'agent-b', 'high'],
    ] as const) {
      published.push({ event_type, source, priority, ...(await publish(base, { event_type, source, priority })) });
    }
    const { page, errors } = await dashboard(base);
    await connected(page);
    await expectSeqs(page, '#live', desc(published));
    await expectSeqs(page, '#history', desc(published));

    await page.locator('#live input[name="types"]').fill('system_*');
    const alerts = published.filter((e) => e.event_type === 'system_alert');
    await expectSeqs(page, '#live', desc(alerts));
    // New events obey the filter too: the task_started, published first, would arrive first if it came at all.
    const lateTask = await publish(base, { event_type: 'task_started', source: 'agent-a' });
    const alert = await publish(base, { event_type: 'system_alert', source: 'agent-b' });
    await expectSeqs(page, '#live', desc([...alerts, alert]));

    await page.locator('#live input[name="types"]').fill('');
    await page.locator('#live input[name="source"]').fill('agent-b');
    const fromB = [...published.filter((e) => e.source === 'agent-b'), alert];
    await expectSeqs(page, '#live', desc(fromB));

    await page.locator('#live input[name="source"]').fill('');
    await page.locator('#live .chip.prio-low').click();
    await page.locator('#live .chip.prio-normal').click();
    await expectSeqs(page, '#live', desc(published.filter((e) => e.priority === 'high' || e.priority === 'critical')));

    await page.locator('#history input[name="types"]').fill('task_*');
    await expectSeqs(page, '#history', desc([...published.filter((e) => e.event_type.startsWith('task_')), lateTask]));
    expect(errors).toEqual([]);
  });

  it('pages through history with Older and Newer', async () => {
    const { base } = await herald();
    await post(base, '/events/batch', { events: Array.from({ length: 30 }, (_, i) => ({ event_type: 'task_progress', source: 'agent-1', payload: { i } })) });
    const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);
    const { page, errors } = await dashboard(base);
    const history = page.locator('#history');

    await expectSeqs(page, '#history', range(30, 6));
    expect(await history.locator('.page-info').textContent()).toBe('seq 30 – 6 · 25 events');
    expect(await history.getByRole('button', { name: '← Newer' }).isDisabled()).toBe(true);

    await history.getByRole('button', { name: 'Older →' }).click();
    await expectSeqs(page, '#history', range(5, 1));
    expect(await history.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);

    await history.getByRole('button', { name: '← Newer' }).click();
    await expectSeqs(page, '#history', range(30, 6));
    expect(await history.getByRole('button', { name: '← Newer' }).isDisabled()).toBe(true);

    await history.locator('select[name="limit"]').selectOption('50');
    await expectSeqs(page, '#history', range(30, 1));
    expect(errors).toEqual([]);
  });

  it('retries a failed delivery from the subscriptions panel', async () => {
    const { base } = await herald();
    const receiver = await startReceiver((n) => (n === 0 ? { status: 500, body: 'boom' } : { status: 204 }));
    cleanups.push(() => receiver.close());
    await post(base, '/subscriptions', { subscriber_name: 'billing', event_types: ['task_*'], callback_url: receiver.url });
    // max_retries 0: the first failure is final, so only the button can send it again.
    const event = await publish(base, { event_type: 'task_failed', source: 'agent-1', max_retries: 0 });

    const { page, errors } = await dashboard(base);
    await page.locator('#subscriptions .sub.selected', { hasText: 'billing' }).waitFor();
    const failed = page.locator('#deliveries tr[data-status="failed"]');
    await failed.waitFor();
    expect(await failed.textContent()).toContain(`#${event.seq}`);
    expect(await failed.textContent()).toContain('HTTP 500');
    expect(receiver.requests).toHaveLength(1);

    await failed.getByRole('button', { name: 'Retry' }).click();
    const delivered = page.locator('#deliveries tr[data-status="delivered"]');
    await delivered.waitFor({ timeout: 10_000 });
    expect(await delivered.locator('td.num').textContent()).toBe('2'); // attempts
    expect(await page.locator('#deliveries tbody tr').count()).toBe(1);
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([event.event_id, event.event_id]);
    expect(errors).toEqual([]);
  });

  it('asks for an API key when Herald requires one, keeps it, shows a read-only key read-only controls, and works with it', async () => {
    const { base } = await herald({ HERALD_API_KEYS: 'reader-key:read,admin-key:admin,producer-key:publish' });
    const { page, errors } = await dashboard(base);
    const dialog = page.locator('#key-dialog[open]');
    await dialog.waitFor();
    await page.locator('#connection[data-state="unauthorized"]').waitFor();

    await dialog.locator('input[name="key"]').fill('wrong-key');
    await dialog.getByRole('button', { name: 'Use key' }).click();
    await dialog.locator('.key-reason', { hasText: 'Herald refused the saved key' }).waitFor();

    // A read key streams, but subscriptions need admin: the panel says so and offers another key.
    await dialog.locator('input[name="key"]').fill('reader-key');
    await dialog.getByRole('button', { name: 'Use key' }).click();
    await connected(page);
    const event = await publish(base, { event_type: 'task_started', source: 'agent-1' }, 'producer-key');
    await page.locator(`#live .event[data-seq="${event.seq}"]`).waitFor();
    const subsNotice = page.locator('#subscriptions .notice');
    await subsNotice.getByText('Read-only key: managing subscriptions and deliveries needs the admin scope.').waitFor();
    // Read-only controls: explained, never shown only to fail.
    expect(await page.locator('#deliveries .empty').textContent()).toBe('Deliveries need a key with the admin scope.');
    expect(await page.getByRole('button', { name: 'New subscription' }).isVisible()).toBe(false);
    await page.locator(`#live .event[data-seq="${event.seq}"] .ev-summary`).click();
    await page.locator(`#live .event[data-seq="${event.seq}"]`, { hasText: 'Deliveries need a key with the admin scope.' }).waitFor();
    await subsNotice.getByRole('button', { name: 'Use another key' }).click();

    await dialog.locator('input[name="key"]').fill('admin-key');
    await dialog.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#subscriptions .subs', { hasText: 'No subscriptions yet' }).waitFor();
    expect(await subsNotice.isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'New subscription' }).isVisible()).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('herald.apiKey'))).toBe('admin-key');

    // The key survives a reload: no form, straight to live, with the history read under it.
    await page.reload();
    await connected(page);
    await expectSeqs(page, '#history', [event.seq]);
    expect(await page.locator('#key-dialog').getAttribute('open')).toBeNull();
    expect(await page.locator('#key-button').textContent()).toBe('Key ••••'); // too short to show any of it
    expect(errors).toEqual([]);
  });
});
