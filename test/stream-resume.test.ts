import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, tempRocksDb, testApp } from './helpers/app.js';
import { connect, listenWs as listen, starve, type Client } from './helpers/ws.js';

describe('two app instances on one database', () => {
  let store: Awaited<ReturnType<typeof tempRocksDb>>;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let urlA: string;
  let urlB: string;
  beforeAll(async () => {
    store = await tempRocksDb();
    a = await testApp({}, store.db);
    b = await testApp({}, store.db);
    urlA = await listen(a);
    urlB = await listen(b);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await store.dispose();
  });

  it('delivers events written by the other instance', async () => {
    const client = await connect(`${urlB}/events?types=task_progress`);
    await vi.waitFor(() => expect(b.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
    const published = await a.inject({ method: 'POST', url: '/events', payload: event() });
    await client.until((f) => f.length === 1);
    expect(client.frames[0]).toMatchObject({ event_id: published.json().event.event_id });
    client.ws.close();
  });

  it('resumes with after= 20 times under two writers and sees every event once, in seq order', async () => {
    const stopAt = Date.now() + 60_000;
    let publishing = true;
    const acked: number[] = [];
    // Four publishers, two per instance, writing as fast as they can the whole time.
    const publishers = [a, a, b, b].map(async (app, n) => {
      for (let i = 0; publishing && Date.now() < stopAt; i++) {
        const res = await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'resume_test', payload: { n, i } }) });
        acked.push(res.json().event.seq as number);
      }
    });

    const seen: number[] = [];
    let cursor = 0;
    for (let round = 0; round < 20; round++) {
      const url = round % 2 === 0 ? urlA : urlB;
      const client: Client = await connect(`${url}/events?types=resume_test&after=${cursor}`);
      // Read until this connection has delivered something new, then drop it mid-stream.
      const startLen = seen.length;
      await client.until((f) => f.length >= 5);
      for (const frame of client.frames) seen.push(frame.seq as number);
      cursor = seen.at(-1) ?? cursor;
      client.ws.terminate();
      expect(seen.length).toBeGreaterThan(startLen);
    }
    publishing = false;
    await Promise.all(publishers);

    // A last resume drains everything that was acknowledged.
    const maxAcked = Math.max(...acked);
    const last = await connect(`${urlA}/events?types=resume_test&after=${cursor}`);
    await last.until((f) => f.some((x) => (x.seq as number) >= maxAcked));
    for (const frame of last.frames) seen.push(frame.seq as number);
    last.ws.close();

    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...acked].sort((x, y) => x - y)).toEqual(seen.filter((s) => s <= maxAcked));
  }, 90_000);
});

describe('backpressure', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    app = await testApp({ HERALD_WS_MAX_BUFFER: '65536' });
    url = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('closes a consumer that stops reading with 4000 while a fast one keeps receiving', async () => {
    const slow = await connect(`${url}/events?types=bulk`);
    const fast = await connect(`${url}/events?types=bulk`);
    await vi.waitFor(() => expect(app.stream.router.size).toBe(2), { timeout: 10_000, interval: 10 });
    const sent = await starve(app, slow, (n) => fast.until((f) => f.length >= n, 20_000));
    expect((await slow.closed).code).toBe(4000);
    await fast.until((f) => f.length >= sent);
    expect(fast.frames).toHaveLength(sent);
    fast.ws.close();
  }, 60_000);
});

describe('auth', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    app = await testApp({ HERALD_API_KEYS: 'reader:read,writer:publish+read' });
    url = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses the upgrade without a key and accepts the token query parameter', async () => {
    await expect(connect(`${url}/events`)).rejects.toThrow(/401/);
    await expect(connect(`${url}/events?token=nope`)).rejects.toThrow(/401/);
    const ok = await connect(`${url}/events?token=reader`);
    ok.ws.close();
    const header = await connect(`${url}/events`, { authorization: 'Bearer reader' });
    header.ws.close();
  });

  it('needs the publish scope to publish over the socket', async () => {
    const reader = await connect(`${url}/events?token=reader`);
    reader.send({ type: 'publish', id: 1, event: event() });
    await reader.until((f) => f.length === 1);
    expect(reader.frames[0]).toMatchObject({ type: 'error', id: 1, code: 'forbidden' });
    const writer = await connect(`${url}/events?token=writer`);
    writer.send({ type: 'publish', id: 2, event: event() });
    await writer.until((f) => f.length === 1);
    expect(writer.frames[0]).toMatchObject({ type: 'published', id: 2, created: true });
    reader.ws.close();
    writer.ws.close();
  });
});
