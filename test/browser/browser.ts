import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testApp } from '../helpers/app.js';

/** Debian's chromium, which .ci/run installs; HERALD_CHROMIUM points elsewhere (another distribution). */
export const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Skip only where chromium genuinely is not there, and say so. CI installs it, so there a missing browser
 * is not a reason to skip: the tests run and fail at launch with the path they looked for.
 */
export const skipBrowser = !existsSync(CHROMIUM) && process.env.CI !== 'true';
if (skipBrowser) {
  console.warn(`browser tests skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set HERALD_CHROMIUM)`);
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: .ci/run installs it with apt-get install chromium`);
  // CI runs as root, where chromium refuses to start with its sandbox on.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/**
 * Herald on a free loopback port. Webhooks may reach a loopback receiver, and a failed attempt is retried
 * only after an hour, so a delivery's status changes only when a test (or the dashboard) acts.
 */
export async function startHerald(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; base: string }> {
  const app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_RETRY_SCHEDULE: '1h', ...env });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/**
 * A page that records uncaught exceptions and console errors, so a test can require a clean run: a broken
 * script would otherwise show up only as a missing element. HTTP failures are left out (chromium logs each
 * 4xx, e.g. the /favicon.ico a page never asked for, or a 401 the dashboard answers with its key form);
 * tests see those through what the page shows.
 */
export async function openPage(browser: Browser, options: Parameters<Browser['newPage']>[0] = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ timezoneId: 'UTC', locale: 'en-US', ...options });
  // Well inside vitest's 30 s, so a condition that never holds fails with playwright's message naming it.
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`);
  });
  return { page, errors };
}

/** POSTs JSON over HTTP, as a producer or an operator would, and returns the answer's body. */
export async function post<T>(base: string, path: string, body: unknown, key?: string): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Publishes one event over HTTP and returns the stored event. */
export async function publish(base: string, event: Record<string, unknown>, key?: string): Promise<{ seq: number; event_id: string }> {
  return (await post<{ event: { seq: number; event_id: string } }>(base, '/events', event, key)).event;
}
