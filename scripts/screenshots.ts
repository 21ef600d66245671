/**
 * Takes the README's dashboard pictures, docs/dashboard.png (desktop) and docs/dashboard-phone.png (360 px):
 * `npx tsx scripts/screenshots.ts`. Run by hand when the page changes, not in CI; it needs chromium
 * (HERALD_CHROMIUM to point elsewhere than /usr/bin/chromium).
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startReceiver } from '../test/helpers/receiver.js';

const DESKTOP = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));
const PHONE = fileURLToPath(new URL('../docs/dashboard-phone.png', import.meta.url));
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

// Failed attempts wait an hour, so the deliveries in the picture hold still.
const app = await buildApp({
  config: loadConfig({ HERALD_DB_URL: 'mem://', HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_RETRY_SCHEDULE: '1h', HERALD_RATE_LIMIT_PUBLISH: '0', HERALD_RATE_LIMIT_READ: '0' }),
  logger: false,
});
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const errors: string[] = [];
// The receiver fails what is marked to fail, so the picture has a failed and a retrying delivery.
const receiver = await startReceiver((_n, request) => (request.body.includes('"fail":true') ? { status: 500, body: 'upstream error' } : { status: 204 }));
const browser = await chromium.launch({ executablePath: process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  await post('/subscriptions', { subscriber_name: 'billing-service', event_types: ['task_completed', 'task_failed'], callback_url: receiver.url });
  await post('/subscriptions', { subscriber_name: 'pager', event_types: ['system_alert'], filters: { priority: ['critical'] }, callback_url: receiver.url });
  await post('/subscriptions', { subscriber_name: 'audit-log', event_types: [] });
  for (const event of HISTORY) await publish(event);

  const page = await open({ viewport: { width: WIDTH, height: HEIGHT } });
  await page.goto(`${base}/`);
  await page.locator('#connection[data-state="live"]').waitFor();

  // The page's clock moves one second per step while the events stream in, so each step fills its own bar.
  const t0 = Date.now();
  let sent = HISTORY.length; // the stored events the live list opens with count as received too
  for (const [step, count] of STEPS.entries()) {
    await page.clock.setFixedTime(t0 + step * 1000);
    for (let i = 0; i < count; i++) {
      const { payload, ...kind } = LIVE_TYPES[(sent + i) % LIVE_TYPES.length]!;
      await publish({ ...kind, payload: payload(sent + i) });
    }
    sent += count;
    await page.locator('#received', { hasText: new RegExp(`^${sent}$`) }).waitFor();
  }
  await page.waitForFunction((bars) => [...document.querySelectorAll('#spark .bar')].filter((b) => (b as HTMLElement).style.height !== '0px').length === bars, STEPS.length);
  await page.locator('#peak', { hasText: `peak ${Math.max(...STEPS)}/s` }).waitFor();
  await settled(page);
  // Finished transitions: the chart's bars grow over 0.3 s.
  await page.screenshot({ path: DESKTOP, animations: 'disabled' });

  const phone = await open({ viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true });
  await phone.goto(`${base}/`);
  await phone.locator('#connection[data-state="live"]').waitFor();
  await settled(phone);
  await phone.screenshot({ path: PHONE, animations: 'disabled' });
  if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join('; ')}`);
  writeFileSync(1, `wrote ${DESKTOP} and ${PHONE}\n`);
} finally {
  await browser.close();
  await receiver.close();
  await app.close();
}

async function open(options: Parameters<typeof browser.newPage>[0]): Promise<Page> {
  const page = await browser.newPage({ timezoneId: 'UTC', locale: 'en-US', ...options });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => errors.push(err.message));
  return page;
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

function publish(event: Record<string, unknown>): Promise<unknown> {
  return post('/events', event);
}

/** billing-service is listed first and selected; its deliveries settle: one failed, one retrying. */
async function settled(page: Page): Promise<void> {
  await page.locator('#subscriptions .sub.selected', { hasText: 'billing-service' }).waitFor();
  await page.waitForFunction((count) => {
    const statuses = [...document.querySelectorAll<HTMLElement>('#deliveries tbody tr[data-status]')].map((row) => row.dataset.status);
    return statuses.length === count && statuses.includes('failed') && statuses.includes('retrying') && !statuses.includes('pending');
  }, BILLING_DELIVERIES);
}
