import type { FastifyInstance } from 'fastify';
import { expect, vi } from 'vitest';
import { testApp } from './app.js';
import { startReceiver, type Receiver, type Responder } from './receiver.js';
import { connect, listenWs, type Client } from './ws.js';

/** A stopped clock the test moves: every due time, cool-down, pause, token and alert time is exact. */
export interface StoppedClock {
  t: number;
  now(): number;
}

export function stoppedClock(): StoppedClock {
  const clock = { t: Date.UTC(2026, 10, 30, 12), now: () => clock.t };
  return clock;
}

/** An app on a stopped clock that may deliver to loopback, with a WebSocket subscribed to system_alert. */
export interface AlertHarness {
  app: FastifyInstance;
  /** Receives every system_alert event, live. */
  ws: Client;
  /** A subscription to task_* events, delivered to a new local receiver answering with `respond`. */
  subscription(respond: Responder, payload?: Record<string, unknown>): Promise<{ id: string; receiver: Receiver }>;
  /** Moves the clock and wakes the webhook engine, so what came due is attempted. */
  advance(ms: number): void;
  deliveries(id: string): Promise<Array<Record<string, any>>>;
  close(): Promise<void>;
}

export async function alertHarness(env: Record<string, string>, clock: StoppedClock): Promise<AlertHarness> {
  const app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', ...env }, undefined, clock);
  const ws = await connect(`${await listenWs(app)}/events`);
  ws.send({ type: 'subscribe', event_types: ['system_alert'] });
  await vi.waitFor(() => expect(app.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
  const receivers: Receiver[] = [];
  return {
    app,
    ws,
    async subscription(respond, payload = {}) {
      const receiver = await startReceiver(respond);
      receivers.push(receiver);
      const res = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'health', callback_url: receiver.url, event_types: ['task_*'], ...payload } });
      expect(res.statusCode).toBe(201);
      return { id: res.json().subscription_id, receiver };
    },
    advance(ms) {
      clock.t += ms;
      app.webhooks.worker?.wake();
    },
    deliveries: async (id) => (await app.inject({ url: `/subscriptions/${id}/deliveries` })).json().deliveries,
    async close() {
      ws.ws.close();
      await app.close();
      for (const r of receivers) await r.close();
    },
  };
}
