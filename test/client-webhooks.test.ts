/** `verifyWebhook` against Herald's own signed deliveries, the Standard Webhooks vector, and tampering. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookVerificationError, verifyWebhook, type HeraldClient, type WebhookFailure } from '../src/client/index.js';
import { deliveringApp } from './helpers/delivering-app.js';
import type { Receiver } from './helpers/receiver.js';

// The Standard Webhooks reference vector (standard-webhooks spec repository): independent of Herald's signer.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  headers: { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
  body: '{"test": 2432232314}',
  now: 1614265330 * 1000,
};

async function failure(promise: Promise<unknown>): Promise<WebhookFailure | undefined> {
  const error = await promise.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).reason;
}

describe('verifyWebhook', () => {
  it('accepts the specification vector, from a plain object or a Headers, as text or bytes', async () => {
    expect(await verifyWebhook(SPEC.secret, SPEC.headers, SPEC.body, { now: SPEC.now })).toEqual({ test: 2432232314 });
    expect(await verifyWebhook(SPEC.secret, new Headers(SPEC.headers), new TextEncoder().encode(SPEC.body), { now: new Date(SPEC.now) }))
      .toEqual({ test: 2432232314 });
    // Header names in any case, and one good signature among others (a rotation).
    const mixed = { 'Webhook-Id': SPEC.headers['webhook-id'], 'WEBHOOK-TIMESTAMP': SPEC.headers['webhook-timestamp'],
      'webhook-signature': `v1,bm90IGl0 v2,whatever ${SPEC.headers['webhook-signature']}` };
    expect(await verifyWebhook(SPEC.secret, mixed, SPEC.body, { now: SPEC.now })).toEqual({ test: 2432232314 });
  });

  it('refuses what is not a fresh, matching signature', async () => {
    const ok = { now: SPEC.now };
    expect(await failure(verifyWebhook(SPEC.secret, SPEC.headers, '{"test": 2432232315}', ok))).toBe('invalid_signature');
    expect(await failure(verifyWebhook('whsec_' + btoa('another key of 24 bytes!'), SPEC.headers, SPEC.body, ok))).toBe('invalid_signature');
    expect(await failure(verifyWebhook(SPEC.secret, SPEC.headers, SPEC.body, { now: SPEC.now + 301_000 }))).toBe('timestamp_out_of_tolerance');
    expect(await failure(verifyWebhook(SPEC.secret, SPEC.headers, SPEC.body, { now: SPEC.now - 301_000 }))).toBe('timestamp_out_of_tolerance');
    expect(await verifyWebhook(SPEC.secret, SPEC.headers, SPEC.body, { now: SPEC.now + 299_000 })).toBeDefined();
    expect(await failure(verifyWebhook(SPEC.secret, SPEC.headers, SPEC.body, { now: SPEC.now + 61_000, toleranceSeconds: 60 }))).toBe('timestamp_out_of_tolerance');
    expect(await failure(verifyWebhook(SPEC.secret, { ...SPEC.headers, 'webhook-signature': undefined }, SPEC.body, ok))).toBe('missing_header');
    expect(await failure(verifyWebhook(SPEC.secret, { ...SPEC.headers, 'webhook-timestamp': '16e8' }, SPEC.body, ok))).toBe('invalid_timestamp');
    expect(await failure(verifyWebhook('whsec_%%%', SPEC.headers, SPEC.body, ok))).toBe('invalid_secret');
  });
});

describe("verifyWebhook on Herald's deliveries", () => {
  let client: HeraldClient;
  let receiver: Receiver;
  let close: () => Promise<void>;
  beforeAll(async () => ({ client, receiver, close } = await deliveringApp()));
  afterAll(() => close());

  it('accepts a real delivery and rejects it tampered, late or under another secret', async () => {
    const subscription = await client.subscriptions.create({ subscriber_name: 'sdk-verify', event_types: ['verify_me'], callback_url: receiver.url });
    const event = await client.publish({ event_type: 'verify_me', source: 'sdk', payload: { amount: 42 } });
    await receiver.until((requests) => requests.length === 1);
    const request = receiver.requests[0];
    if (!request) throw new Error('no delivery');

    const payload = await verifyWebhook(subscription.secret, request.headers, request.body);
    expect(payload.event).toEqual(event);
    expect(payload.subscription).toEqual({ id: subscription.subscription_id, subscriber: 'sdk-verify' });

    expect(await failure(verifyWebhook(subscription.secret, request.headers, request.body.replace('42', '43')))).toBe('invalid_signature');
    const late = (Number(request.headers['webhook-timestamp']) + 301) * 1000;
    expect(await failure(verifyWebhook(subscription.secret, request.headers, request.body, { now: late }))).toBe('timestamp_out_of_tolerance');
    const other = await client.subscriptions.create({ subscriber_name: 'sdk-other', event_types: ['nothing'] });
    expect(await failure(verifyWebhook(other.secret, request.headers, request.body))).toBe('invalid_signature');

    // During a rotation both secrets sign; either one verifies.
    const rotated = await client.subscriptions.rotateSecret(subscription.subscription_id);
    await client.publish({ event_type: 'verify_me', source: 'sdk' });
    await receiver.until((requests) => requests.length === 2);
    const second = receiver.requests[1];
    if (!second) throw new Error('no second delivery');
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(2);
    await verifyWebhook(rotated.secret, second.headers, second.body);
    await verifyWebhook(subscription.secret, second.headers, second.body);
  });
});
