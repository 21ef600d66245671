import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';

let app: FastifyInstance;
const admin = { authorization: 'Bearer admin-key' };
beforeAll(async () => {
  app = await testApp({ HERALD_API_KEYS: 'admin-key:admin,reader:read', HERALD_WEBHOOK_SECRET_OVERLAP: '1h' });
});
afterAll(async () => {
  await app.close();
});

const create = (payload: unknown) => app.inject({ method: 'POST', url: '/subscriptions', headers: admin, payload: payload as object });
const count = async () => (await app.inject({ url: '/subscriptions', headers: admin })).json().subscriptions.length as number;

describe('subscriptions', () => {
  it('creates one with a generated whsec_ secret shown once, and reads it back without the secret', async () => {
    const res = await create({ subscriber_name: 'billing', event_types: ['task_*', 'custom'], filters: { priority: ['high'] }, callback_url: 'https://93.184.216.34/hook' });
    expect(res.statusCode).toBe(201);
    const sub = res.json();
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(sub).toMatchObject({ subscriber_name: 'billing', event_types: ['task_*', 'custom'], is_active: true, last_activity: null });
    const read = await app.inject({ url: `/subscriptions/${sub.subscription_id}`, headers: admin });
    expect(read.statusCode).toBe(200);
    expect(read.json()).not.toHaveProperty('secret');
    expect(read.json()).toMatchObject({ subscription_id: sub.subscription_id, callback_url: 'https://93.184.216.34/hook' });
    const list = await app.inject({ url: '/subscriptions?subscriber_name=billing', headers: admin });
    expect(list.json().subscriptions.map((s: { subscription_id: string }) => s.subscription_id)).toEqual([sub.subscription_id]);
  });

  it('patches, rotates the secret (old one kept with an end), and deletes', async () => {
    const sub = (await create({ subscriber_name: 'ops' })).json();
    const patched = await app.inject({ method: 'PATCH', url: `/subscriptions/${sub.subscription_id}`, headers: admin, payload: { is_active: false, event_types: ['system_alert'] } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ is_active: false, event_types: ['system_alert'], subscriber_name: 'ops' });

    const rotated = await app.inject({ method: 'POST', url: `/subscriptions/${sub.subscription_id}/rotate-secret`, headers: admin });
    expect(rotated.statusCode).toBe(200);
    const { secret, previous_valid_until } = rotated.json();
    expect(secret).not.toBe(sub.secret);
    expect(Date.parse(previous_valid_until) - Date.now()).toBeGreaterThan(3_500_000);
    expect(await app.store.subscriptions.signingSecrets(sub.subscription_id, Date.now())).toEqual([secret, sub.secret]);
    expect(await app.store.subscriptions.signingSecrets(sub.subscription_id, Date.now() + 3_700_000)).toEqual([secret]);

    expect((await app.inject({ method: 'DELETE', url: `/subscriptions/${sub.subscription_id}`, headers: admin })).statusCode).toBe(204);
    expect((await app.inject({ url: `/subscriptions/${sub.subscription_id}`, headers: admin })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/subscriptions/${sub.subscription_id}`, headers: admin })).statusCode).toBe(404);
  });

  it.each([
    ['http://127.0.0.1/hook'], ['http://[::1]/'], ['http://10.0.0.1/'], ['http://169.254.169.254/'], ['http://[::ffff:127.0.0.1]/'],
    ['http://localhost:9/hook'],
  ])('refuses callback_url %s with 422 naming the switch, storing nothing', async (callback_url) => {
    const before = await count();
    const res = await create({ subscriber_name: 'x', callback_url });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'unsafe_callback_url' });
    expect(res.json().error.message).toContain('HERALD_WEBHOOK_ALLOW_PRIVATE');
    expect(await count()).toBe(before);
  });

  it('accepts a private target named in HERALD_WEBHOOK_ALLOW_HOSTS, and only that one', async () => {
    const allowing = await testApp({ HERALD_WEBHOOK_ALLOW_HOSTS: 'localhost,10.1.0.0/16' });
    try {
      const post = (callback_url: string) => allowing.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'x', callback_url } });
      expect((await post('http://localhost:9/hook')).statusCode).toBe(201);
      expect((await post('http://10.1.2.3/hook')).statusCode).toBe(201);
      const refused = await post('http://10.2.0.1/hook');
      expect(refused.statusCode).toBe(422);
      expect(refused.json().error.message).toContain('HERALD_WEBHOOK_ALLOW_HOSTS');
    } finally {
      await allowing.close();
    }
  });

  it.each([
    [{}], [{ subscriber_name: '' }], [{ subscriber_name: 'x', event_types: ['Bad Type'] }], [{ subscriber_name: 'x', filters: { colour: 'red' } }],
    [{ subscriber_name: 'x', secret: 'plain' }], [{ subscriber_name: 'x', extra: 1 }], [{ subscriber_name: 'x', is_active: 'yes' }],
  ])('refuses bad input %j with 400, storing nothing', async (payload) => {
    const before = await count();
    const res = await create(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_error');
    expect(await count()).toBe(before);
  });

  it('needs the admin scope', async () => {
    const res = await app.inject({ url: '/subscriptions', headers: { authorization: 'Bearer reader' } });
    expect(res.statusCode).toBe(403);
  });

  it('refuses an empty patch and an unknown id', async () => {
    const sub = (await create({ subscriber_name: 'p' })).json();
    expect((await app.inject({ method: 'PATCH', url: `/subscriptions/${sub.subscription_id}`, headers: admin, payload: {} })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PATCH', url: `/subscriptions/${crypto.randomUUID()}`, headers: admin, payload: { is_active: true } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: `/subscriptions/${crypto.randomUUID()}/rotate-secret`, headers: admin })).statusCode).toBe(404);
  });
});

describe('PATCH replaces a field as a whole', () => {
  const patch = (id: string, payload: object) => app.inject({ method: 'PATCH', url: `/subscriptions/${id}`, headers: admin, payload });
  const stored = async (id: string) => (await app.inject({ url: `/subscriptions/${id}`, headers: admin })).json();

  it('filters {c} replaces {a, b}; filters {} clears them; a patch without filters leaves them', async () => {
    const sub = (await create({ subscriber_name: 'filters', filters: { source: 'a', 'payload.region': 'eu' } })).json();
    expect(sub.filters).toEqual({ source: 'a', 'payload.region': 'eu' });

    expect((await patch(sub.subscription_id, { filters: { priority: ['high'] } })).json().filters).toEqual({ priority: ['high'] });
    expect((await stored(sub.subscription_id)).filters).toEqual({ priority: ['high'] });

    expect((await patch(sub.subscription_id, { is_active: false })).json().filters).toEqual({ priority: ['high'] });

    expect((await patch(sub.subscription_id, { filters: {} })).json().filters).toEqual({});
    expect(await stored(sub.subscription_id)).toMatchObject({ filters: {}, is_active: false, subscriber_name: 'filters' });
  });

  it('keeps the signing secrets, and the index matches with the new filters', async () => {
    const sub = (await create({ subscriber_name: 'index', filters: { source: 'a' } })).json();
    await patch(sub.subscription_id, { filters: { target: 't' } });
    expect(await app.store.subscriptions.signingSecrets(sub.subscription_id, Date.now())).toEqual([sub.secret]);
    const indexed = (await app.store.subscriptions.listWithSecrets()).find((s) => s.subscription.subscription_id === sub.subscription_id);
    expect(indexed?.subscription.filters).toEqual({ target: 't' });
  });
});

describe('the change counter replicas poll', () => {
  it('moves on every change, not only the first', async () => {
    const before = await app.store.subscriptions.version();
    const created = await create({ subscriber_name: 'counter', event_types: ['a'], callback_url: 'https://93.184.216.34/hook' });
    expect(created.statusCode).toBe(201);
    const url = `/subscriptions/${created.json().subscription_id}`;
    expect((await app.inject({ method: 'PATCH', url, headers: admin, payload: { event_types: ['b'] } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url, headers: admin })).statusCode).toBe(204);
    expect(await app.store.subscriptions.version()).toBe(before + 3);
  });
});

describe('concurrent changes', () => {
  // Every change writes the one counter row, so concurrent ones conflict in the store; none may fail for it.
  it('all succeed and all apply: creates, then patches, rotations and deletes at the same time', async () => {
    const before = await app.store.subscriptions.version();
    const created = await Promise.all(Array.from({ length: 24 }, (_, i) => create({ subscriber_name: `concurrent-${i}` })));
    expect(created.map((r) => r.statusCode)).toEqual(created.map(() => 201));
    const ids = created.map((r) => r.json().subscription_id as string);
    const changes = await Promise.all(ids.map((id, i) => {
      const url = `/subscriptions/${id}`;
      if (i % 3 === 0) return app.inject({ method: 'PATCH', url, headers: admin, payload: { event_types: ['x'] } });
      if (i % 3 === 1) return app.inject({ method: 'POST', url: `${url}/rotate-secret`, headers: admin });
      return app.inject({ method: 'DELETE', url, headers: admin });
    }));
    expect(changes.map((r) => r.statusCode)).toEqual(ids.map((_, i) => [200, 200, 204][i % 3]));
    // Replicas only need to see the counter move (the embedded mem:// engine has been seen to lose a
    // concurrent increment; RocksDB has not).
    expect(await app.store.subscriptions.version()).toBeGreaterThan(before + 24);
    const stored = (await app.inject({ url: '/subscriptions', headers: admin })).json().subscriptions as Array<{ subscription_id: string; event_types: string[] }>;
    const byId = new Map(stored.map((s) => [s.subscription_id, s]));
    ids.forEach((id, i) => {
      if (i % 3 === 0) expect(byId.get(id)?.event_types).toEqual(['x']);
      if (i % 3 === 1) expect(byId.has(id)).toBe(true);
      if (i % 3 === 2) expect(byId.has(id)).toBe(false);
    });
  });
});
