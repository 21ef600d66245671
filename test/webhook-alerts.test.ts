import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { event } from './helpers/app.js';
import type { Responder } from './helpers/receiver.js';
import { alertHarness, stoppedClock, type AlertHarness } from './helpers/alert-harness.js';
import { EndpointAlert } from '../src/schemas/system-alert.js';

/**
 * The `failing` and `disabled` system_alert events end to end (docs/webhooks.md#system_alert-events): a real
 * app on the embedded database, a real receiver answering 500, the alerts read back as a user reads them
 * (history and the WebSocket stream), and the subscription's `health` as GET /subscriptions/:id shows it.
 * The clock is stopped and only the test moves it, so every attempt's time, and each alert's `at` and
 * `failing_since`, is exact.
 */
const clock = stoppedClock();
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
let h: AlertHarness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await alertHarness({
    HERALD_WEBHOOK_DISABLE_AFTER: '1h',
    // The circuit is separate from the failing run and the auto-disable (docs/webhooks.md#circuit-breaker);
    // off, the only states the endpoint goes through are failing and disabled.
    HERALD_WEBHOOK_CIRCUIT_FAILURES: '0',
    // Retries 1 s ± 20% apart: moving the clock 2 s always makes the next one due.
    HERALD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s',
  }, clock);
  app = h.app;
});
afterAll(async () => {
  await h?.close();
});

const subscription = (respond: Responder) => h.subscription(respond, { subscriber_name: 'billing' });
const waitFor = <T>(check: () => Promise<T> | T) => vi.waitFor(check, { timeout: 10_000, interval: 20 });
const advance = (ms: number) => h.advance(ms);
const resource = async (id: string) => {
  const res = await app.inject({ url: `/subscriptions/${id}` });
  expect(res.statusCode).toBe(200);
  return res.json();
};
const deliveries = (id: string) => h.deliveries(id);
/** Waits until the subscription's one delivery has had `n` attempts (its outcome, and so the gate's, is written). */
const attempted = (id: string, n: number) =>
  waitFor(async () => expect((await deliveries(id)).map((d) => [d.status, d.attempts])).toEqual([['retrying', n]]));
/** The system_alert events about one subscription, oldest first, from GET /events as a user reads them. */
const alerts = async (id: string): Promise<Array<Record<string, any>>> => {
  const res = await app.inject({ url: '/events?types=system_alert&order=asc&limit=100' });
  expect(res.statusCode).toBe(200);
  return res.json().events.filter((e: { payload: { subscription_id?: string } }) => e.payload.subscription_id === id);
};

describe('webhook endpoint alerts: failing, then disabled', () => {
  it('publishes `failing` at the third failed attempt in a row and `disabled` once failures lasted HERALD_WEBHOOK_DISABLE_AFTER; the resource shows each state', async () => {
    const { id, receiver } = await subscription(() => ({ status: 500 }));
    const t0 = clock.t;
    expect((await resource(id)).health).toMatchObject({ state: 'healthy', consecutive_failures: 0, failing_since: null });

    // 1st failure: the run starts (failing_since) and the resource says so, but one failure is routine: no alert.
    expect((await app.inject({ method: 'POST', url: '/events', payload: event() })).statusCode).toBe(201);
    await attempted(id, 1);
    await waitFor(async () => expect((await resource(id)).health).toMatchObject({ state: 'failing', consecutive_failures: 1, failing_since: iso(t0) }));
    advance(2_000);
    await attempted(id, 2);
    // Once the second outcome is stored the gate has seen it, and an alert it raised is committed before this event.
    await waitFor(async () => expect((await deliveries(id)).map((d) => d.attempts)).toEqual([2]));
    expect((await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'other' }) })).statusCode).toBe(201);
    expect(await alerts(id)).toEqual([]);

    // 3rd failure in a row: the `failing` alert.
    advance(2_000);
    await attempted(id, 3);
    await waitFor(async () => expect(await alerts(id)).toHaveLength(1));
    const [failing] = await alerts(id);
    expect(failing).toMatchObject({ event_type: 'system_alert', source: 'herald', priority: 'normal' });
    expect(Value.Check(EndpointAlert, failing!.payload)).toBe(true);
    expect(failing!.payload).toEqual({
      alert: 'webhook_endpoint', subscription_id: id, subscriber_name: 'billing', state: 'failing',
      reason: 'an attempt failed: HTTP 500; deliveries are retried', at: iso(t0 + 4_000),
      circuit: 'closed', consecutive_failures: 3, failing_since: iso(t0), paused_until: null, next_probe_at: null,
    });
    await waitFor(async () => expect(await resource(id)).toMatchObject({
      is_active: true, failing_since: iso(t0), disabled_reason: null,
      health: { state: 'failing', circuit: 'closed', consecutive_failures: 3, failing_since: iso(t0), paused_until: null, next_probe_at: null, disabled_reason: null },
    }));

    // Still failing 1 s short of HERALD_WEBHOOK_DISABLE_AFTER (measured from the run's first failure): not disabled.
    advance(t0 + HOUR - 1_000 - clock.t);
    await attempted(id, 4);
    expect((await resource(id))).toMatchObject({ is_active: true, health: { state: 'failing' } });

    // The next failure, past it: the `disabled` alert, and the subscription is switched off.
    advance(2_000);
    const disabledAt = t0 + HOUR + 1_000;
    const reason = `deliveries failed continuously since ${iso(t0)} (HERALD_WEBHOOK_DISABLE_AFTER)`;
    await waitFor(async () => expect((await alerts(id)).map((e) => e.payload.state)).toEqual(['failing', 'disabled']));
    const [, disabled] = await alerts(id);
    expect(disabled).toMatchObject({ event_type: 'system_alert', source: 'herald', priority: 'high' });
    expect(Value.Check(EndpointAlert, disabled!.payload)).toBe(true);
    expect(disabled!.payload).toEqual({
      alert: 'webhook_endpoint', subscription_id: id, subscriber_name: 'billing', state: 'disabled', reason, at: iso(disabledAt),
      circuit: 'closed', consecutive_failures: 5, failing_since: iso(t0), paused_until: null, next_probe_at: null,
    });
    await waitFor(async () => expect(await resource(id)).toMatchObject({
      is_active: false, failing_since: iso(t0), disabled_reason: reason,
      health: { state: 'disabled', circuit: 'closed', consecutive_failures: 5, failing_since: iso(t0), disabled_reason: reason },
    }));
    expect(receiver.requests).toHaveLength(5);

    // Disabled means no more requests: the delivery's next retry, once due, fails without one and says why.
    advance(2_000);
    await waitFor(async () => expect((await deliveries(id)).map((d) => [d.status, d.attempts, d.last_error]))
      .toEqual([['failed', 5, `the subscription is disabled: ${reason}`]]));
    expect(receiver.requests).toHaveLength(5);

    // A live WebSocket subscriber got the same two alerts, in order, as they happened.
    await h.ws.until((frames) => frames.filter((f) => (f.payload as { subscription_id?: string } | undefined)?.subscription_id === id).length === 2);
    const live = h.ws.frames.filter((f) => (f.payload as { subscription_id?: string } | undefined)?.subscription_id === id);
    expect(live.map((f) => [f.event_type, f.event_id, (f.payload as EndpointAlert).state]))
      .toEqual([['system_alert', failing!.event_id, 'failing'], ['system_alert', disabled!.event_id, 'disabled']]);
  });

  it('publishes nothing for two failures followed by a success; the resource goes failing → healthy', async () => {
    let ok = false;
    const { id, receiver } = await subscription(() => ({ status: ok ? 204 : 500 }));
    const t0 = clock.t;
    expect((await app.inject({ method: 'POST', url: '/events', payload: event() })).statusCode).toBe(201);
    await attempted(id, 1);
    advance(2_000);
    await attempted(id, 2);
    await waitFor(async () => expect((await resource(id)).health).toMatchObject({ state: 'failing', failing_since: iso(t0) }));
    ok = true;
    advance(2_000);
    await waitFor(async () => expect((await deliveries(id)).map((d) => [d.status, d.attempts])).toEqual([['delivered', 3]]));
    await waitFor(async () => expect(await resource(id)).toMatchObject({
      is_active: true, failing_since: null, health: { state: 'healthy', consecutive_failures: 0, failing_since: null },
    }));
    expect(receiver.requests).toHaveLength(3);
    // The gate hands an alert to the committer in the same tick as it records the outcome, so one published
    // after that is committed after the alert: once this event is stored, any alert about the run is too.
    expect((await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'other' }) })).statusCode).toBe(201);
    expect(await alerts(id)).toEqual([]);
  });
});
