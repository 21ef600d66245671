import { describe, expect, it, vi } from 'vitest';
import { appsClosedAfterEach, countEvents, event } from './helpers/app.js';
import { SHED_WARM_UP_MS } from '../src/plugins/load-shedding.js';

const app = appsClosedAfterEach();

const PROBES = ['/health', '/api/health', '/ready', '/livez', '/readyz'];

/** Time that moves only when the test says so. */
class StoppedClock {
  ms = Date.now();
  now(): number {
    return this.ms;
  }
}

function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* the event loop is blocked */ }
}

/**
 * Stalls the event loop until the pressure sampler has seen a mean delay above 100 ms. One stall is not
 * always enough: it can land at a sample boundary, where the reset dilutes it.
 */
async function stallUntilSampled(herald: { memoryUsage(): { eventLoopDelay: number } }): Promise<void> {
  await vi.waitFor(() => {
    const delay = herald.memoryUsage().eventLoopDelay;
    if (delay <= 100) stall(1100);
    expect(delay).toBeGreaterThan(100);
  }, { timeout: 8_000, interval: 10 });
}

function expectShed(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, reason: string): void {
  expect(res.statusCode).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.json()).toMatchObject({ error: { code: 'overloaded', message: expect.stringContaining('overloaded'), details: { reason } } });
}

describe('load shedding', () => {
  it('answers 503 overloaded with Retry-After above the heap threshold, stores nothing, and probes keep answering', async () => {
    // Any heap is above one byte, from the first sample on (taken once a second).
    const herald = await app({ HERALD_SHED_HEAP_USED: '1' });
    await vi.waitFor(() => expect(herald.memoryUsage().heapUsed).toBeGreaterThan(0), { timeout: 5000 });

    expectShed(await herald.inject({ method: 'POST', url: '/events', payload: event() }), 'heapUsedBytes');
    expectShed(await herald.inject({ method: 'POST', url: '/events/batch', payload: { events: [event()] } }), 'heapUsedBytes');
    expectShed(await herald.inject({ url: '/events' }), 'heapUsedBytes');
    expect(await countEvents(herald)).toBe(0);
    for (const url of PROBES) expect((await herald.inject({ url })).statusCode, url).toBe(200);
  });

  it('answers 503 overloaded while the event loop is stalled, once start-up is over', async () => {
    const clock = new StoppedClock();
    const herald = await app({ HERALD_SHED_EVENT_LOOP_DELAY: '100ms' }, undefined, clock);
    // Each attempt stalls the loop for a whole sampling second, so the sample taken before the request (or
    // during it) shows a mean delay far above 100 ms.
    await stallUntilSampled(herald);
    // Within the warm-up after start the stall is not held against the process.
    expect((await herald.inject({ url: '/events' })).statusCode).toBe(200);

    clock.ms += SHED_WARM_UP_MS;
    let health: number | undefined;
    await vi.waitFor(async () => {
      stall(1100);
      const res = await herald.inject({ url: '/events' });
      health = (await herald.inject({ url: '/health' })).statusCode;
      expectShed(res, 'eventLoopDelay');
    }, { timeout: 15_000, interval: 10 });
    expect(health).toBe(200);
  });

  it('still sheds for the heap while a stalled event loop is discounted (start-up)', async () => {
    const herald = await app({ HERALD_SHED_EVENT_LOOP_DELAY: '100ms', HERALD_SHED_HEAP_USED: '1' }, undefined, new StoppedClock());
    await stallUntilSampled(herald);
    expectShed(await herald.inject({ url: '/events' }), 'heapUsedBytes');
  });

  it('is off at 0', async () => {
    const herald = await app({ HERALD_SHED_HEAP_USED: '0', HERALD_SHED_EVENT_LOOP_DELAY: '0' });
    await vi.waitFor(() => expect(herald.memoryUsage().heapUsed).toBeGreaterThan(0), { timeout: 5000 });
    expect(herald.isUnderPressure()).toBe(false);
    expect((await herald.inject({ method: 'POST', url: '/events', payload: event() })).statusCode).toBe(201);
  });
});
