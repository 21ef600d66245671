import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { launch, openPage, post, publish, skipBrowser, startHerald } from './browser.js';

// The README's picture is refreshed on request only (`HERALD_UPDATE_SCREENSHOT=1 npx vitest run test/browser`),
// so an ordinary test run leaves the working tree clean; otherwise the same picture goes to a temp file.
const SCREENSHOT = process.env.HERALD_UPDATE_SCREENSHOT === '1'
  ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
  : join(mkdtempSync(join(tmpdir(), 'herald-screenshot-')), 'dashboard.png');
const WIDTH = 1440;
const HEIGHT = 1000;

/** A small agent workflow, as `EventAwareAgent`s would publish it, stored before the page opens. */
const HISTORY = [
  { event_type: 'workflow_step_changed', source: 'orchestrator', priority: 'normal', payload: { step: 'plan', workflow: 'site-build' } },
  { event_type: 'task_started', source: 'planner', priority: 'normal', payload: { task: 'Build landing page' } },
  { event_type: 'task_completed', source: 'planner', priority: 'normal', payload: { result: 'plan ready', steps: 6 } },
  { event_type: 'task_failed', source: 'deploy-agent', priority: 'high', max_retries: 0, payload: { error: 'bucket not found', fail: true } },
  { event_type: 'system_alert', source: 'monitor', priority: 'critical', payload: { alert: 'disk 91% full', host: 'db-1' } },
  { event_type: 'task_completed', source: 'backend-agent', priority: 'high', payload: { result: 'migrations applied', fail: true } },
  { event_type: 'task_completed', source: 'frontend-agent', priority: 'normal', payload: { result: 'index.html', bytes: 4812 } },
  { event_type: 'task_completed', source: 'qa-agent', priority: 'normal', payload: { result: 'passed', checks: 42 } },
];
/** billing-service's deliveries: the task_failed (max_retries 0) fails, one task_completed retries. */
const BILLING_DELIVERIES = 5;

/** Live traffic in one-second steps, so the throughput chart has a shape: events per step. */
const STEPS = [3, 5, 4, 8, 6, 9, 7, 11, 6, 8];
const LIVE_TYPES = [
  { event_type: 'task_progress', source: 'frontend-agent', priority: 'normal', payload: (n: number) => ({ progress: Math.round((n / 70) * 100) / 100, message: 'rendering' }) },
  { event_type: 'task_progress', source: 'backend-agent', priority: 'normal', payload: (n: number) => ({ progress: Math.round((n / 70) * 100) / 100, message: 'api routes' }) },
  { event_type: 'agent_status_changed', source: 'deploy-agent', priority: 'low', payload: (n: number) => ({ status: n % 2 ? 'idle' : 'busy' }) },
  { event_type: 'custom', source: 'browser', priority: 'low', payload: (n: number) => ({ action: 'page_view', path: `/docs/${n % 4}` }) },
  { event_type: 'workflow_step_changed', source: 'orchestrator', priority: 'high', payload: (n: number) => ({ step: `build-${n % 3}` }) },
] as const;

describe.skipIf(skipBrowser)('dashboard screenshot', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  let receiver: Receiver;

  beforeAll(async () => {
    ({ app, base } = await startHerald());
    // The receiver fails what is marked to fail, so the picture has a failed and a retrying delivery.
    receiver = await startReceiver((_n, request) => (request.body.includes('"fail":true') ? { status: 500, body: 'upstream error' } : { status: 204 }));
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await app?.close();
  });

  it(`saves docs/dashboard.png: live events, throughput, subscriptions and their deliveries`, async () => {
    await post(base, '/subscriptions', { subscriber_name: 'billing-service', event_types: ['task_completed', 'task_failed'], callback_url: receiver.url });
    await post(base, '/subscriptions', { subscriber_name: 'pager', event_types: ['system_alert'], filters: { priority: ['critical'] }, callback_url: receiver.url });
    await post(base, '/subscriptions', { subscriber_name: 'audit-log', event_types: [] });
    for (const event of HISTORY) await publish(base, event);

    const { page, errors } = await openPage(browser, { viewport: { width: WIDTH, height: HEIGHT } });
    await page.goto(`${base}/`);
    await page.locator('#connection[data-state="live"]').waitFor();

    // The page's clock moves one second per step while the events stream in, so each step fills its own bar.
    const t0 = Date.now();
    let sent = 0;
    for (const [step, count] of STEPS.entries()) {
      await page.clock.setFixedTime(t0 + step * 1000);
      for (let i = 0; i < count; i++) {
        const { payload, ...kind } = LIVE_TYPES[(sent + i) % LIVE_TYPES.length]!;
        await publish(base, { ...kind, payload: payload(sent + i) });
      }
      sent += count;
      await page.locator('#received', { hasText: new RegExp(`^${sent}$`) }).waitFor();
    }
    await page.waitForFunction((bars) => [...document.querySelectorAll('#spark .bar')].filter((b) => (b as HTMLElement).style.height !== '0px').length === bars, STEPS.length);
    await page.locator('#peak', { hasText: `peak ${Math.max(...STEPS)}/s` }).waitFor();

    // billing-service is listed first and selected; its deliveries settle: one failed, one retrying.
    await page.locator('#subscriptions .sub.selected', { hasText: 'billing-service' }).waitFor();
    await page.waitForFunction((count) => {
      const statuses = [...document.querySelectorAll<HTMLElement>('#deliveries tbody tr')].map((row) => row.dataset.status);
      return statuses.length === count && statuses.includes('failed') && statuses.includes('retrying') && !statuses.includes('pending');
    }, BILLING_DELIVERIES);

    // Finished transitions: the chart's bars grow over 0.3 s.
    await page.screenshot({ path: SCREENSHOT, animations: 'disabled' });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([WIDTH, HEIGHT]); // IHDR width, height
    expect(errors).toEqual([]);
  });
});
