import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { event } from './helpers/app.js';
import type { Responder } from './helpers/receiver.js';
import { alertHarness, stoppedClock, type AlertHarness } from './helpers/alert-harness.js';
import { EndpointAlert } from '../src/schemas/system-alert.js';
import { EndpointGate, type GateDeps } from '../src/webhooks/endpoint-gate.js';

const clock = stoppedClock();
let h: AlertHarness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await alertHarness({ HERALD_WEBHOOK_CIRCUIT_FAILURES: '2', HERALD_WEBHOOK_CIRCUIT_COOLDOWN: '30s', HERALD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s' }, clock);
  app = h.app;
});
afterAll(async () => {
  await h?.close();
});

const subscription = (respond: Responder, extra: Record<string, unknown> = {}) => h.subscription(respond, extra);
const publish = async (n: number) => {
  for (let i = 0; i < n; i++) expect((await app.inject({ method: 'POST', url: '/events', payload: event() })).statusCode).toBe(201);
};
const advance = (ms: number) => h.advance(ms);
const health = async (id: string) => (await app.inject({ url: `/subscriptions/${id}` })).json().health;
const deliveries = (id: string) => h.deliveries(id);
const alertStates = async (id: string): Promise<string[]> => {
  const page = (await app.inject({ url: '/events?types=system_alert&source=herald&order=asc&limit=100' })).json();
  const alerts = page.events.map((e: { payload: unknown }) => e.payload).filter((p: EndpointAlert) => p.subscription_id === id);
  for (const a of alerts) expect(Value.Check(EndpointAlert, a)).toBe(true);
  return alerts.map((a: EndpointAlert) => a.state);
};
const noWrites: Omit<GateDeps, 'lookup'> = {
  save: () => Promise.reject(new Error('unexpected write')), disabled: async () => undefined,
  alert: () => Promise.reject(new Error('unexpected alert')), log: { warn: () => undefined } as unknown as GateDeps['log'],
};
const waitFor = <T>(check: () => Promise<T>) => vi.waitFor(check, { timeout: 10_000, interval: 20 });

describe('webhook endpoint health, end to end', () => {
  it('opens the circuit after N failures, holds deliveries without using attempts, probes once after the cool-down, and closes', async () => {
    let ok = false;
    const { id, receiver } = await subscription(() => ({ status: ok ? 204 : 500 }), { event_types: [] });
    // One commit, so one claim hands all three to the worker and all three are attempted before the circuit opens.
    expect((await app.inject({ method: 'POST', url: '/events/batch', payload: { events: [event(), event(), event()] } })).statusCode).toBe(201);
    await receiver.until((r) => r.length === 3);
    await waitFor(async () => expect(await health(id)).toMatchObject({ state: 'circuit_open', circuit: 'open', consecutive_failures: expect.any(Number) }));
    const { next_probe_at } = await health(id);
    expect(Date.parse(next_probe_at)).toBe(clock.t + 30_000);
    // A replica that starts now (a fresh gate on the stored state) holds the endpoint too.
    await app.webhooks.index.reload();
    const fresh = new EndpointGate({ ...noWrites, lookup: (s) => app.webhooks.index.get(s) }, { circuitFailures: 2, coolDownMs: 30_000, maxCoolDownMs: 600_000, disableAfterMs: 0 });
    expect(fresh.admit(id, clock.t)).toEqual({ send: false, notBefore: Date.parse(next_probe_at), reason: 'circuit_open' });

    // Retries come due, but the circuit holds them until the probe time, each still at 1 attempt.
    advance(5_000);
    await waitFor(async () => {
      const ds = await deliveries(id);
      expect(ds.map((d) => [d.attempts, d.next_attempt_at])).toEqual(ds.map(() => [1, next_probe_at]));
    });
    expect(receiver.requests).toHaveLength(3);

    ok = true;
    advance(25_000);
    await waitFor(async () => expect((await health(id)).state).toBe('healthy'));
    // The probe was the 4th request. The two held retries are due since the probe time, so once the circuit
    // closes they may go at once (a slot wake-up can come before the clock moves again).
    expect(receiver.requests.length).toBeGreaterThanOrEqual(4);
    advance(1_000);
    await waitFor(async () => expect((await deliveries(id)).map((d) => [d.status, d.attempts])).toEqual([['delivered', 2], ['delivered', 2], ['delivered', 2]]));
    expect(receiver.requests).toHaveLength(6);

    // The circuit opens at the second failure, before the third that would announce `failing`.
    await waitFor(async () => expect(await alertStates(id)).toEqual(['circuit_open', 'circuit_half_open', 'recovered']));
    await h.ws.until((f) => f.filter((x) => (x.payload as EndpointAlert | undefined)?.subscription_id === id).length === 3);
    // The subscription takes every event type, yet got none of the alerts about itself.
    expect(receiver.requests.filter((r) => r.body.includes('system_alert'))).toEqual([]);
  });

  it('pauses the whole endpoint on a 503 with Retry-After: other deliveries wait too', async () => {
    const { id, receiver } = await subscription((n) => (n === 0 ? { status: 503, headers: { 'retry-after': '120' } } : { status: 204 }));
    await publish(1);
    await waitFor(async () => expect(await health(id)).toMatchObject({ state: 'paused', circuit: 'closed', paused_until: new Date(clock.t + 120_000).toISOString() }));
    await publish(1);
    await waitFor(async () => {
      const ds = await deliveries(id);
      expect(ds.map((d) => [d.status, d.attempts, d.next_attempt_at])).toEqual([
        ['pending', 0, new Date(clock.t + 120_000).toISOString()],
        ['retrying', 1, new Date(clock.t + 120_000).toISOString()],
      ]);
    });
    expect(receiver.requests).toHaveLength(1);
    advance(120_000);
    await waitFor(async () => expect((await deliveries(id)).map((d) => d.status)).toEqual(['delivered', 'delivered']));
    expect(receiver.requests).toHaveLength(3);
    await waitFor(async () => expect(await alertStates(id)).toEqual(['paused', 'recovered']));
  });

  it('throttles to rate_limit deliveries per second without using attempts', async () => {
    const { id, receiver } = await subscription(() => ({ status: 204 }), { rate_limit: 2 });
    await publish(5);
    await waitFor(async () => expect((await deliveries(id)).filter((d) => d.status === 'pending' && d.next_attempt_at === new Date(clock.t + 500).toISOString())).toHaveLength(3));
    expect(receiver.requests).toHaveLength(2);
    advance(1_000);
    await receiver.until((r) => r.length === 4);
    await waitFor(async () => expect((await deliveries(id)).filter((d) => d.status === 'pending').map((d) => [d.attempts, d.next_attempt_at]))
      .toEqual([[0, new Date(clock.t + 500).toISOString()]]));
    expect(receiver.requests).toHaveLength(4);
  });

  it('validates, stores and echoes rate_limit', async () => {
    const { id } = await subscription(() => ({ status: 204 }));
    expect((await app.inject({ url: `/subscriptions/${id}` })).json()).toMatchObject({ rate_limit: null, health: { state: 'healthy', circuit: 'closed', consecutive_failures: 0 } });
    for (const bad of [0, -1, 10_001, 'fast']) {
      const res = await app.inject({ method: 'PATCH', url: `/subscriptions/${id}`, payload: { rate_limit: bad } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBeTypeOf('string');
    }
    const patched = await app.inject({ method: 'PATCH', url: `/subscriptions/${id}`, payload: { rate_limit: 0.5 } });
    expect(patched.json().rate_limit).toBe(0.5);
    expect((await app.inject({ method: 'PATCH', url: `/subscriptions/${id}`, payload: { rate_limit: null } })).json().rate_limit).toBeNull();
  });
});
