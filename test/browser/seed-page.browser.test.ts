import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/app.js';
import { launch, openPage, publish, skipBrowser } from './browser.js';

// The original browser page (docs/design.md), verbatim: it hardcodes ws://localhost:8080/events and
// fetch('/api/health'), so Herald itself serves it, from port 8080.
const SEED_PAGE = readFileSync(new URL('../fixtures/seed-page.html', import.meta.url), 'utf8');
const ORIGIN = 'http://localhost:8080';

describe.skipIf(skipBrowser)('the original browser page, unchanged, against Herald', () => {
  let app: FastifyInstance;
  let browser: Browser;

  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), logger: false });
    // Test-only route: the page must come from Herald's origin for its relative /api/health fetch.
    app.get('/original-page.html', (_request, reply) => reply.type('text/html; charset=utf-8').send(SEED_PAGE));
    try {
      // 'localhost' listens on 127.0.0.1 and ::1, whichever chromium resolves localhost to.
      await app.listen({ port: 8080, host: 'localhost' });
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new Error('port 8080 is taken: the original browser page hardcodes ws://localhost:8080/events, so this test needs it; stop what listens there (a running `npm start`?) and run again');
      }
      throw err;
    }
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('connects, renders task_progress events published over HTTP, and shows the /api/health status', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${ORIGIN}/original-page.html`);

    await page.locator('#connection-status.connected', { hasText: /^Connected$/ }).waitFor();
    await page.locator('#backend-response', { hasText: /^Backend Status: ok \(Response time: \d+ms\)$/ }).waitFor();

    // The page subscribes (without an id) once open; publish only after Herald has registered it.
    await vi.waitFor(() => expect(app.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
    await publish(ORIGIN, { event_type: 'system_alert', source: 'ops', payload: { note: 'not subscribed' } });
    await publish(ORIGIN, { event_type: 'task_progress', source: 'agent-1', payload: { progress: 0.42, message: 'indexing' } });

    const item = page.locator('#event-log .event-item', { hasText: 'task_progress: {"progress":0.42,"message":"indexing"}' });
    await item.waitFor();
    // Events arrive in seq order, so the system_alert would be in by now had Herald sent it; and a control
    // frame would have rendered as "undefined: undefined".
    const items = await page.locator('#event-log .event-item').allTextContents();
    expect(items.map((text) => text.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/^\[\d{1,2}:\d{2}:\d{2}( [AP]M)?\] task_progress: \{"progress":0\.42,"message":"indexing"\}$/),
      'Waiting for events...',
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
