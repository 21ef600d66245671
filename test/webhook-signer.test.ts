import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign, webhookHeaders } from '../src/webhooks/signer.js';
import { verifyWebhook } from '../src/client/index.js';

// Herald's own receiver-side check is the client's verifyWebhook; these tests pair it with the signer.
const BODY = '{"n":1}';
const verifies = (secret: string, headers: Record<string, string>, body: string, nowS: number) =>
  verifyWebhook(secret, headers, body, { now: nowS * 1000 }).then(() => true, () => false);

// The Standard Webhooks reference vector (standard-webhooks spec repository, "verify" test).
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signing', () => {
  it('reproduces the specification test vector', () => {
    expect(sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('matches an HMAC computed independently from the decoded key', () => {
    const secret = generateSecret();
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`evt.1700000000.{"a":1}`).digest('base64');
    expect(sign(secret, 'evt', 1700000000, '{"a":1}')).toBe(`v1,${expected}`);
  });

  it('signs with every secret during a rotation, and either verifies', async () => {
    const [old, fresh] = [generateSecret(), generateSecret()];
    const headers = { ...webhookHeaders([old, fresh], 'evt-1', 1700000000, BODY) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(await verifies(old, headers, BODY, 1700000010)).toBe(true);
    expect(await verifies(fresh, headers, BODY, 1700000010)).toBe(true);
  });

  it('rejects a tampered body, a wrong secret and an old timestamp', async () => {
    const secret = generateSecret();
    const headers = { ...webhookHeaders([secret], 'evt-2', 1700000000, BODY) };
    expect(await verifies(secret, headers, '{"n":2}', 1700000000)).toBe(false);
    expect(await verifies(generateSecret(), headers, BODY, 1700000000)).toBe(false);
    expect(await verifies(secret, headers, BODY, 1700000000 + 301)).toBe(false);
    expect(await verifies(secret, headers, BODY, 1700000000 + 299)).toBe(true);
  });
});
