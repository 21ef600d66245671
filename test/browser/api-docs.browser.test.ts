import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, openPage, skipBrowser, startHerald } from './browser.js';

describe.skipIf(skipBrowser)('the API reference page at /docs', () => {
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ app, base } = await startHerald());
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders every operation from Herald alone, under its Content-Security-Policy, with no script error', async () => {
    const { page, errors } = await openPage(browser);
    // Swagger UI is a 1.5 MB script: on a loaded machine it takes a while to parse.
    page.setDefaultTimeout(60_000);
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) elsewhere.push(request.url());
    });
    await page.goto(`${base}/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/events/batch' }).waitFor();
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(expect.arrayContaining(['/events', '/subscriptions/{id}', '/deliveries/{id}/retry']));
    await expect(page.locator('.models, .models-control').first().isVisible()).resolves.toBe(true);
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
    await page.close();
  }, 120_000);
});
