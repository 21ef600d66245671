import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, makeTempDir, spawnServer, type ServerProcess } from '../helpers/spawn-server.js';
import { launch, openPage, publish, skipBrowser } from './browser.js';

declare global {
  interface Window {
    received: Array<{ id: string; seq: number }>;
    opens: number;
  }
}

describe.skipIf(skipBrowser)('a browser EventSource on GET /events', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await cleanupServers();
  });

  it('receives events, then reconnects through a server kill and restart with no gap and no duplicate', async () => {
    const dataDir = makeTempDir('sse-browser');
    const env = { HERALD_SSE_RETRY: '200ms' };
    let server: ServerProcess = await spawnServer({ dataDir, env });
    const { page, errors } = await openPage(browser);
    // Any page of Herald's origin will do: the stream is same-origin, as a dashboard's would be.
    await page.goto(`${server.url}/livez`);
    await page.evaluate(() => {
      window.received = [];
      window.opens = 0;
      const source = new EventSource('/events?types=sse_browser');
      source.onopen = () => (window.opens += 1);
      source.onmessage = (e: MessageEvent<string>) => window.received.push({ id: e.lastEventId, seq: (JSON.parse(e.data) as { seq: number }).seq });
    });
    await page.waitForFunction(() => window.opens === 1);
    const before = [await publish(server.url, { event_type: 'sse_browser', source: 't', payload: {} })];
    await publish(server.url, { event_type: 'other', source: 't', payload: {} });
    before.push(await publish(server.url, { event_type: 'sse_browser', source: 't', payload: {} }));
    await page.waitForFunction(() => window.received.length === 2);
    await server.stop('SIGKILL');
    server = await spawnServer({ dataDir, env: { ...env, PORT: String(server.port) }, retryLocked: true });
    // Published as soon as the new process is ready, most likely before the browser's retry reaches it.
    const after = [
      await publish(server.url, { event_type: 'sse_browser', source: 't', payload: {} }),
      await publish(server.url, { event_type: 'sse_browser', source: 't', payload: {} }),
    ];
    await page.waitForFunction(() => window.received.length >= 4);
    const received = await page.evaluate(() => window.received);
    expect(received).toEqual([...before, ...after].map((e) => ({ id: String(e.seq), seq: e.seq })));
    expect(await page.evaluate(() => window.opens)).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000); // two server starts: seconds each in CI, far more on a loaded machine
});
