/** `transaction()`: a group of events published atomically (all stored or none), against a real app. */
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldClient, HeraldError, type HeraldEvent } from '../src/client/index.js';
import { uuidFromBytes } from '../src/client/uuid.js';
import { testApp } from './helpers/app.js';

describe('transaction', () => {
  let app: FastifyInstance;
  let client: HeraldClient;
  beforeAll(async () => {
    app = await testApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    client = new HeraldClient({ baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await app.close();
  });

  async function stored(correlationId: string): Promise<HeraldEvent[]> {
    const events: HeraldEvent[] = [];
    for await (const e of client.history({ correlation_id: correlationId, order: 'asc' })) events.push(e);
    return events;
  }

  it('commits every buffered event in one batch, stamped with the correlation id', async () => {
    const correlationId = randomUUID();
    let storedDuringCallback: HeraldEvent[] = [];
    const { events, result } = await client.transaction(correlationId, async (tx) => {
      const started = tx.publish({ event_type: 'task_started', source: 'sdk' });
      tx.publish({ event_type: 'task_progress', source: 'sdk', payload: { progress: 50 } });
      tx.publish({ event_type: 'task_completed', source: 'sdk', correlation_id: randomUUID() });
      // Buffered, not published: nothing is visible until the callback returns.
      storedDuringCallback = await stored(correlationId);
      return started.event_id;
    });
    expect(storedDuringCallback).toEqual([]);
    expect(events.map((e) => e.event_type)).toEqual(['task_started', 'task_progress', 'task_completed']);
    expect(events[0]?.event_id).toBe(result);
    expect(await stored(correlationId)).toEqual(events);
    for (const e of events) expect(e.correlation_id).toBe(correlationId);
    // One transaction: consecutive seqs, nothing committed in between.
    expect(events.map((e) => e.seq - (events[0]?.seq ?? 0))).toEqual([0, 1, 2]);
  });

  it('rolls back: publishes nothing of it, a system_alert instead, and rethrows', async () => {
    const correlationId = randomUUID();
    const failure = new Error('step 3 exploded');
    const thrown = await client
      .transaction(correlationId, async (tx) => {
        tx.publish({ event_type: 'task_started', source: 'sdk' });
        tx.publish({ event_type: 'task_progress', source: 'sdk' });
        throw failure;
      }, { alertSource: 'billing-agent' })
      .then(() => undefined, (err: unknown) => err);
    expect(thrown).toBe(failure);
    const events = await stored(correlationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_type: 'system_alert', source: 'billing-agent', priority: 'high', correlation_id: correlationId,
      payload: { error: 'step 3 exploded', failed_events: 2 },
    });
  });

  it('stores none of a batch Herald refuses, and says so with a system_alert', async () => {
    const correlationId = randomUUID();
    const thrown = await client
      .transaction(correlationId, (tx) => {
        tx.publish({ event_type: 'task_started', source: 'sdk' });
        tx.publish({ event_type: 'Bad Type', source: 'sdk' });
      })
      .then(() => undefined, (err: unknown) => err);
    expect(thrown).toBeInstanceOf(HeraldError);
    expect(thrown).toMatchObject({ status: 400, code: 'validation_error' });
    const events = await stored(correlationId);
    expect(events.map((e) => [e.event_type, e.payload.failed_events])).toEqual([['system_alert', 2]]);
  });

  it('refuses a publish after the callback has settled, and commits nothing for an empty transaction', async () => {
    const correlationId = randomUUID();
    let escaped: { publish: (e: { event_type: string; source: string }) => unknown } | undefined;
    const outcome = await client.transaction(correlationId, (tx) => {
      escaped = tx;
    });
    expect(outcome).toEqual({ events: [], result: undefined });
    expect(() => escaped?.publish({ event_type: 'custom', source: 'sdk' })).toThrow(/already finished/);
    expect(await stored(correlationId)).toEqual([]);
  });

  it('makes valid v4 event ids without crypto.randomUUID (browsers on plain-http origins)', () => {
    expect(uuidFromBytes(new Uint8Array(16))).toBe('00000000-0000-4000-8000-000000000000');
    expect(uuidFromBytes(new Uint8Array(16).fill(255))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });
});
