/**
 * Interop with the reference Standard Webhooks library (npm `standardwebhooks`): what it signs, Herald's
 * `verifyWebhook` accepts; what Herald delivers, its `Webhook.verify` accepts; a tampered body fails both ways.
 */
import { Webhook, WebhookVerificationError as LibraryVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookVerificationError, verifyWebhook, type HeraldClient } from '../src/client/index.js';
import { generateSecret, webhookHeaders } from '../src/webhooks/signer.js';
import { deliveringApp } from './helpers/delivering-app.js';
import type { Receiver } from './helpers/receiver.js';

// Non-ASCII text makes both sides agree on signing UTF-8 bytes, not UTF-16 code units or Latin-1.
const BODY = JSON.stringify({ event: { event_type: 'invoice_paid', payload: { amount: '12,50 €', note: 'naïve 🚀' } } });
const tamper = (body: string) => body.replace('12,50', '12,51');

/** The three signature headers as the library's `verify` types them (Node's headers may be arrays). */
function signatureHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = headers[name];
    if (typeof value !== 'string') throw new Error(`${name} missing`);
    picked[name] = value;
  }
  return picked;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (err: unknown) => err);
}

describe('standardwebhooks signs, Herald verifies', () => {
  it("accepts the library's signature over a UTF-8 body and refuses the body tampered", async () => {
    const secret = generateSecret();
    const id = 'msg_2f1d3c0e-interop';
    const timestamp = new Date();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, timestamp, BODY),
    };
    expect(await verifyWebhook(secret, headers, BODY)).toEqual(JSON.parse(BODY));
    expect(await verifyWebhook(secret, headers, new TextEncoder().encode(BODY))).toEqual(JSON.parse(BODY));

    const error = await rejection(verifyWebhook(secret, headers, tamper(BODY)));
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect((error as WebhookVerificationError).reason).toBe('invalid_signature');
  });
});

describe("Herald's signer, verified by standardwebhooks", () => {
  it('verifies every secret of a rotation and refuses a tampered body', () => {
    const [old, fresh] = [generateSecret(), generateSecret()];
    const headers = { ...webhookHeaders([old, fresh], 'evt-rotation', Math.floor(Date.now() / 1000), BODY) };
    expect(new Webhook(old).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(new Webhook(fresh).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(() => new Webhook(generateSecret()).verify(BODY, headers)).toThrow(LibraryVerificationError);
    expect(() => new Webhook(old).verify(tamper(BODY), headers)).toThrow(LibraryVerificationError);
  });
});

describe("standardwebhooks verifies Herald's real deliveries", () => {
  let client: HeraldClient;
  let receiver: Receiver;
  let close: () => Promise<void>;
  beforeAll(async () => ({ client, receiver, close } = await deliveringApp()));
  afterAll(() => close());

  it('verifies a delivery under a generated and under a receiver-chosen secret, and refuses it tampered', async () => {
    // A secret made by the receiver's side (any bytes, base64) must work as well as one Herald generates.
    const chosen = `whsec_${Buffer.from('receiver-chosen key, 32 bytes..').toString('base64')}`;
    const generated = await client.subscriptions.create({ subscriber_name: 'interop-a', event_types: ['invoice_paid'], callback_url: receiver.url });
    await client.subscriptions.create({ subscriber_name: 'interop-b', event_types: ['invoice_paid'], callback_url: receiver.url, secret: chosen });
    const event = await client.publish({ event_type: 'invoice_paid', source: 'billing', payload: { amount: '12,50 €', note: 'naïve 🚀' } });
    await receiver.until((requests) => requests.length === 2);

    const bySubscriber = new Map(
      receiver.requests.map((r) => [(JSON.parse(r.body) as { subscription: { subscriber: string } }).subscription.subscriber, r]),
    );
    for (const [subscriber, secret] of [['interop-a', generated.secret], ['interop-b', chosen]] as const) {
      const request = bySubscriber.get(subscriber);
      if (!request) throw new Error(`no delivery for ${subscriber}`);
      const headers = signatureHeaders(request.headers);
      const payload = new Webhook(secret).verify(request.body, headers) as { event: unknown };
      expect(payload.event).toEqual(event);
      expect(() => new Webhook(secret).verify(tamper(request.body), headers)).toThrow(LibraryVerificationError);
      expect(() => new Webhook(secret).verify(request.body, { ...headers, 'webhook-id': 'another-id' })).toThrow(LibraryVerificationError);
    }
  });
});
