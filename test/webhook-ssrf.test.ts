import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.js';
import { WebhookSender, guardedLookup } from '../src/webhooks/sender.js';
import type { UrlPolicy } from '../src/webhooks/url-guard.js';
import { testApp } from './helpers/app.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { GUARDED_HOSTS, PUBLIC_HOSTS, REFUSED_HOSTS, asAddress } from './fixtures/ssrf-targets.js';

/** A resolver that answers every name with `address`, as a rebinding DNS server would. */
const rebindTo = (address: string) => async () => [address];

describe('SSRF at connect time (the sender resolves through the guard)', () => {
  let receiver: Receiver;
  let port: string;
  const senders: WebhookSender[] = [];
  const sender = (policy: UrlPolicy) => {
    const s = new WebhookSender({ timeoutMs: 2000, connectionsPerOrigin: 1, policy });
    senders.push(s);
    return s;
  };
  beforeAll(async () => {
    receiver = await startReceiver();
    port = new URL(receiver.url).port;
  });
  afterAll(async () => {
    await Promise.all(senders.map((s) => s.close()));
    await receiver.close();
  });

  it.each(REFUSED_HOSTS)('refuses a name re-pointed at %s, and the literal, without connecting', async (host) => {
    const strict = sender({ allowPrivate: false, lookup: rebindTo(asAddress(host)) });
    const byName = await strict.send(`http://hooks.example:${port}/hook`, {}, '{}');
    expect(byName).toMatchObject({ status: null, body: null });
    expect(byName.error).toMatch(/^callback_url hooks\.example resolves to .*HERALD_WEBHOOK_ALLOW_(PRIVATE|HOSTS)/);
    const literal = await strict.send(`http://${host}:${port}/hook`, {}, '{}');
    expect(literal.error).toMatch(/resolves to/);
    expect(receiver.requests).toHaveLength(0);
  });

  it.each(GUARDED_HOSTS)('refuses a name re-pointed at %s even with HERALD_WEBHOOK_ALLOW_PRIVATE=true', async (host) => {
    const open = sender({ allowPrivate: true, lookup: rebindTo(asAddress(host)) });
    const result = await open.send(`http://hooks.example:${port}/hook`, {}, '{}');
    expect(result.error).toMatch(/unless HERALD_WEBHOOK_ALLOW_HOSTS lists that address/);
    expect(receiver.requests).toHaveLength(0);
  });

  it.each(PUBLIC_HOSTS)('hands a public answer (%s) to the socket unchanged', async (host) => {
    const lookup = guardedLookup({ allowPrivate: false, lookup: rebindTo(asAddress(host)) });
    const answered = await new Promise<unknown>((resolve, reject) =>
      lookup('hooks.example', { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
    expect(answered).toEqual([{ address: asAddress(host), family: asAddress(host).includes(':') ? 6 : 4 }]);
  });

  it('delivers to a local receiver named in HERALD_WEBHOOK_ALLOW_HOSTS, or by the switch', async () => {
    const listed = sender({ allowPrivate: false, allowHosts: ['127.0.0.1'], lookup: rebindTo('127.0.0.1') });
    expect((await listed.send(`http://hooks.example:${port}/hook`, {}, '{"n":1}')).status).toBe(204);
    expect((await listed.send(`http://127.0.0.1:${port}/hook`, {}, '{"n":2}')).status).toBe(204);
    const open = sender({ allowPrivate: true, lookup: rebindTo('127.0.0.1') });
    expect((await open.send(`http://hooks.example:${port}/hook`, {}, '{"n":3}')).status).toBe(204);
    expect(receiver.requests.map((r) => r.body)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    receiver.requests.length = 0;
  });
});

describe('SSRF at registration (POST /subscriptions)', () => {
  let strict: FastifyInstance;
  let open: FastifyInstance;
  beforeAll(async () => {
    strict = await testApp();
    open = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_ALLOW_HOSTS: '169.254.10.10,fe80::5' });
  });
  afterAll(async () => {
    await strict.close();
    await open.close();
  });
  const register = (app: FastifyInstance, host: string) =>
    app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'ssrf', callback_url: `http://${host}:8080/hook` } });
  const stored = async (app: FastifyInstance) => (await app.inject({ url: '/subscriptions' })).json().subscriptions.length;

  it.each(REFUSED_HOSTS)('refuses http://%s:8080/hook with 422 and stores nothing', async (host) => {
    const before = await stored(strict);
    const res = await register(strict, host);
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'unsafe_callback_url', message: expect.stringMatching(/HERALD_WEBHOOK_ALLOW_HOSTS/) });
    expect(await stored(strict)).toBe(before);
  });

  it.each(PUBLIC_HOSTS)('accepts the public address %s', async (host) => {
    expect((await register(strict, host)).statusCode).toBe(201);
  });

  it.each(GUARDED_HOSTS)('refuses %s with HERALD_WEBHOOK_ALLOW_PRIVATE=true', async (host) => {
    const res = await register(open, host);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(/refused even with HERALD_WEBHOOK_ALLOW_PRIVATE=true/);
  });

  it('accepts loopback with the switch, and link-local addresses HERALD_WEBHOOK_ALLOW_HOSTS names', async () => {
    for (const host of ['127.0.0.1', '[::1]', '10.0.0.1', '169.254.10.10', '[fe80::5]']) {
      expect((await register(open, host)).statusCode, host).toBe(201);
    }
  });
});

describe('HERALD_WEBHOOK_ALLOW_HOSTS', () => {
  it('stops the start on a range that does not parse, naming it', () => {
    expect(() => loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: 'localhost,10.0.0.0/33' })).toThrow(/HERALD_WEBHOOK_ALLOW_HOSTS: 10\.0\.0\.0\/33 is not a CIDR range/);
    expect(loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1,localhost,fe80::/10' }).webhooks.allowHosts).toEqual(['127.0.0.1', 'localhost', 'fe80::/10']);
  });

  it.each(['127.0.0.1:9000', '[::1]:9000', 'http://localhost', 'localhost:9000', 'host name'])('stops the start on %s, which could never match a target', (entry) => {
    expect(() => loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: `localhost,${entry}` })).toThrow(/HERALD_WEBHOOK_ALLOW_HOSTS/);
  });

  it('takes hostnames, IPv4 and IPv6 addresses, bracketed or not', () => {
    const entries = ['hooks.internal', 'receiver-1', '10.1.2.3', '::1', '[::1]', 'fd00::/8'];
    expect(loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: entries.join(',') }).webhooks.allowHosts).toEqual(entries);
  });
});
