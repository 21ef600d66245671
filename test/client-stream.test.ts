/**
 * The SDK's live subscription against real servers: every event exactly once and in seq order across a
 * graceful restart (close 1001) and a kill -9 (no close frame), and the edges of resume (a cursor from
 * another database), auth and liveness.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldClient, HeraldError, type HeraldEvent, type StreamGap, type StreamState } from '../src/client/index.js';
import { tempRocksDb, testApp } from './helpers/app.js';
import { cleanupServers, freePort, makeTempDir, spawnServer } from './helpers/spawn-server.js';

afterAll(cleanupServers);

/** Collects what a stream reports and resolves waits the moment a condition holds (no polling, no sleeps). */
function recorder() {
  const events: HeraldEvent[] = [];
  const states: StreamState[] = [];
  const gaps: StreamGap[] = [];
  const errors: Error[] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  return {
    events, states, gaps, errors,
    onEvent: (e: HeraldEvent) => { events.push(e); changed(); },
    onStateChange: (s: StreamState) => { states.push(s); changed(); },
    onGap: (g: StreamGap) => { gaps.push(g); changed(); },
    onError: (e: Error) => { errors.push(e); changed(); },
    until: (condition: () => boolean, what: string, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!condition()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${what} not seen within ${timeoutMs} ms; states ${states.join(',')}; ${events.length} events`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

const fastRetry = { initialDelayMs: 20, maxDelayMs: 200 };
const count = (states: StreamState[], state: StreamState) => states.filter((s) => s === state).length;

async function listen(app: FastifyInstance, port = 0): Promise<number> {
  await app.listen({ port, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

describe('subscribe: reconnect and resume', () => {
  it('delivers every event once, in seq order, across a server restart (events before, during and after)', async () => {
    const store = await tempRocksDb();
    let server = await testApp({}, store.db);
    // A second instance on the same database, not listening: it publishes while no server is reachable.
    const writer = await testApp({}, store.db);
    try {
      const port = await listen(server);
      const client = new HeraldClient({ baseUrl: `http://127.0.0.1:${port}`, WebSocket });
      const rec = recorder();
      const stream = client.subscribe({ eventTypes: ['restart_test'], reconnect: fastRetry, ...rec }, rec.onEvent);
      await stream.ready();

      const published: number[] = [];
      const publishVia = async (publish: (body: object) => Promise<HeraldEvent>, phase: string) => {
        for (let i = 0; i < 5; i++) published.push((await publish({ event_type: 'restart_test', source: 'test', payload: { phase, i } })).seq);
      };
      const viaWriter = async (body: object) => (await writer.inject({ method: 'POST', url: '/events', payload: body })).json().event as HeraldEvent;
      // Noise the subscription must not see.
      await client.publish({ event_type: 'other_type', source: 'test' });

      await publishVia((body) => client.publish(body as never), 'before');
      await rec.until(() => rec.events.length === 5, 'the events before the restart');

      await server.close(); // closes the socket with 1001
      await rec.until(() => rec.states.includes('reconnecting'), 'reconnecting');
      await publishVia(viaWriter, 'during');

      server = await testApp({}, store.db);
      await listen(server, port);
      // Published at once, while the client may still be reconnecting or replaying: the handover case.
      await publishVia((body) => client.publish(body as never), 'after');
      await rec.until(() => rec.events.length >= 15, 'all 15 events');

      expect(rec.events.map((e) => e.seq)).toEqual(published);
      expect(rec.events.map((e) => (e.payload as { phase: string }).phase)).toEqual([
        ...Array<string>(5).fill('before'), ...Array<string>(5).fill('during'), ...Array<string>(5).fill('after'),
      ]);
      expect(count(rec.states, 'open')).toBeGreaterThanOrEqual(2);
      expect(stream.lastSeq).toBe(published.at(-1));
      stream.close();
      expect(stream.state).toBe('closed');
      expect(rec.errors).toEqual([]);
    } finally {
      await server.close();
      await writer.close();
      await store.dispose();
    }
  }, 60_000);

  it('resumes after the server process is killed with SIGKILL and started again on the same port', async () => {
    const dataDir = makeTempDir('client-kill');
    const env = { PORT: String(await freePort()) };
    let server = await spawnServer({ dataDir, env });
    const client = new HeraldClient({ baseUrl: server.url, WebSocket });
    const rec = recorder();
    const stream = client.subscribe({ eventTypes: ['kill_test'], reconnect: fastRetry, ...rec }, rec.onEvent);
    await stream.ready();
    const published: number[] = [];
    for (let i = 0; i < 3; i++) published.push((await client.publish({ event_type: 'kill_test', source: 'test', payload: { i } })).seq);
    await rec.until(() => rec.events.length === 3, 'the events before the kill');

    await server.stop('SIGKILL');
    await rec.until(() => rec.states.includes('reconnecting'), 'reconnecting');
    server = await spawnServer({ dataDir, env, retryLocked: true });
    for (let i = 3; i < 6; i++) published.push((await client.publish({ event_type: 'kill_test', source: 'test', payload: { i } })).seq);
    await rec.until(() => rec.events.length >= 6, 'all 6 events');

    expect(rec.events.map((e) => e.seq)).toEqual(published);
    stream.close();
    await server.stop();
  }, 90_000);
});

describe('subscribe: edges', () => {
  it('gives up on a refused key (401), whether the HTTP lookup or the upgrade finds out', async () => {
    const app = await testApp({ HERALD_API_KEYS: 'reader:read,writer:publish' });
    try {
      const port = await listen(app);
      for (const after of [undefined, 0]) {
        const client = new HeraldClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'wrong', WebSocket });
        const rec = recorder();
        // With `after` the client skips the HTTP lookup, so the refused upgrade itself must be diagnosed.
        const stream = client.subscribe({ ...(after !== undefined && { after }), reconnect: fastRetry, ...rec }, rec.onEvent);
        const failure = await stream.ready().then(() => undefined, (err: unknown) => err);
        expect(failure).toBeInstanceOf(HeraldError);
        expect(failure).toMatchObject({ status: 401, code: 'unauthorized' });
        expect(stream.state).toBe('closed');
        expect(rec.states).not.toContain('reconnecting');
        expect(rec.errors).toEqual([failure]);
      }
      // The right key streams.
      const client = new HeraldClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'reader', WebSocket });
      const rec = recorder();
      const stream = client.subscribe({ eventTypes: ['auth_ok'], ...rec }, rec.onEvent);
      await stream.ready();
      const published = await app.inject({
        method: 'POST', url: '/events', headers: { authorization: 'Bearer writer' }, payload: { event_type: 'auth_ok', source: 't' },
      });
      expect(published.statusCode).toBe(201);
      await rec.until(() => rec.events.length === 1, 'the event');
      stream.close();
    } finally {
      await app.close();
    }
  });

});

describe('subscribe: resume edges and refusals', () => {
  let app: FastifyInstance;
  let client: HeraldClient;
  beforeAll(async () => {
    app = await testApp();
    client = new HeraldClient({ baseUrl: `http://127.0.0.1:${await listen(app)}`, WebSocket });
  });
  afterAll(async () => {
    await app.close();
  });

  it('takes a cursor from another (or a reset) database as "from now" instead of dropping new events', async () => {
    const first = await client.publish({ event_type: 'ahead', source: 't' });
    const rec = recorder();
    const stream = client.subscribe({ eventTypes: ['ahead'], after: 1_000_000, ...rec }, rec.onEvent);
    await stream.ready();
    expect(rec.gaps).toEqual([{ code: 'cursor_ahead', after: 1_000_000, resumedFrom: first.seq + 1 }]);
    const next = await client.publish({ event_type: 'ahead', source: 't' });
    await rec.until(() => rec.events.length === 1, 'the event after the reset');
    expect(rec.events[0]?.event_id).toBe(next.event_id);
    stream.close();
  });

  it('replays from `after` and filters by payload, then streams live', async () => {
    const stored = await client.publishBatch([
      { event_type: 'filtered', source: 't', payload: { region: 'eu' } },
      { event_type: 'filtered', source: 't', payload: { region: 'us' } },
    ]);
    const rec = recorder();
    const stream = client.subscribe({ eventTypes: ['filtered'], filters: { 'payload.region': 'eu' }, after: 0, ...rec }, rec.onEvent);
    const live = await client.publish({ event_type: 'filtered', source: 't', payload: { region: 'eu' } });
    await rec.until(() => rec.events.length === 2, 'the replayed and the live event');
    expect(rec.events.map((e) => e.event_id)).toEqual([stored[0]?.event_id, live.event_id]);
    stream.close();
  });

  it('ends, without reconnecting, when Herald refuses the subscription itself', async () => {
    const rec = recorder();
    const stream = client.subscribe({ eventTypes: ['Not A Type'], reconnect: fastRetry, ...rec }, rec.onEvent);
    const failure = await stream.ready().then(() => undefined, (err: unknown) => err);
    expect(failure).toMatchObject({ status: 0, code: 'invalid_message' });
    expect(rec.states).toEqual(['connecting', 'closed']);
  });

  it('drops a silent connection on the heartbeat and reconnects', async () => {
    // A WebSocket server that accepts and then never answers anything: a peer that vanished without a FIN.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    let connections = 0;
    const connected = new Set<() => void>();
    silent.on('connection', () => {
      connections += 1;
      for (const check of [...connected]) check();
    });
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
    try {
      const port = (silent.address() as AddressInfo).port;
      const client = new HeraldClient({ baseUrl: `http://127.0.0.1:${port}`, WebSocket });
      const rec = recorder();
      const stream = client.subscribe({ after: 0, heartbeatMs: 50, reconnect: fastRetry, ...rec }, rec.onEvent);
      await new Promise<void>((resolve) => {
        const check = () => { if (connections >= 2) resolve(); };
        connected.add(check);
      });
      expect(rec.states).toContain('reconnecting');
      stream.close();
    } finally {
      for (const ws of silent.clients) ws.terminate();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('needs a WebSocket implementation on Node 20 and says which', () => {
    const client = new HeraldClient({ baseUrl: 'http://127.0.0.1:1' });
    if ('WebSocket' in globalThis) return; // Node 22+ has a global one
    expect(() => client.subscribe({}, () => undefined)).toThrow(/'ws' package/);
  });
});
