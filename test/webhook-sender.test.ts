import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSender, RESPONSE_BODY_LIMIT } from '../src/webhooks/sender.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

let receiver: Receiver;
const senders: WebhookSender[] = [];
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 500, body: 'x'.repeat(10_000) }));
});
afterAll(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await receiver.close();
});

function sender(policy: ConstructorParameters<typeof WebhookSender>[0]['policy']): WebhookSender {
  const s = new WebhookSender({ timeoutMs: 2000, connectionsPerOrigin: 2, policy });
  senders.push(s);
  return s;
}

describe('WebhookSender', () => {
  it('refuses, at connect time, a hostname that resolves to loopback, and a literal loopback address', async () => {
    const strict = sender({ allowPrivate: false });
    const port = new URL(receiver.url).port;
    const byName = await strict.send(`http://localhost:${port}/hook`, {}, '{}');
    expect(byName).toMatchObject({ status: null, body: null });
    expect(byName.error).toMatch(/loopback\/private.*HERALD_WEBHOOK_ALLOW_PRIVATE/);
    const literal = await strict.send(`http://127.0.0.1:${port}/hook`, {}, '{}');
    expect(literal.error).toMatch(/resolves to 127\.0\.0\.1/);
    const mapped = await strict.send(`http://[::ffff:127.0.0.1]:${port}/hook`, {}, '{}');
    expect(mapped.error).toMatch(/loopback\/private/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('reaches an allow-listed host or range, and keeps only the first 4 KiB of the response body', async () => {
    const port = new URL(receiver.url).port;
    const byHost = await sender({ allowPrivate: false, allowHosts: ['localhost'] }).send(`http://localhost:${port}/hook`, {}, '{}');
    expect(byHost).toMatchObject({ status: 500, error: 'HTTP 500' });
    expect(byHost.body).toHaveLength(RESPONSE_BODY_LIMIT);
    const byRange = await sender({ allowPrivate: false, allowHosts: ['127.0.0.0/8'] }).send(`http://127.0.0.1:${port}/hook`, { 'webhook-id': 'x' }, '{"a":1}');
    expect(byRange.status).toBe(500);
    expect(receiver.requests.at(-1)).toMatchObject({ body: '{"a":1}', headers: expect.objectContaining({ 'webhook-id': 'x' }) });
  });

  it('reports a refused connection as an attempt error without a status', async () => {
    const result = await sender({ allowPrivate: true }).send('http://127.0.0.1:1/hook', {}, '{}');
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});
