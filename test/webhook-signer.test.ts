import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign, verify, webhookHeaders } from '../src/webhooks/signer.js';

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

  it('signs with every secret during a rotation, and either verifies', () => {
    const [old, fresh] = [generateSecret(), generateSecret()];
    const headers = webhookHeaders([old, fresh], 'evt-1', 1700000000, 'body');
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verify(old, headers, 'body', 1700000010)).toBe(true);
    expect(verify(fresh, headers, 'body', 1700000010)).toBe(true);
  });

  it('rejects a tampered body, a wrong secret and an old timestamp', () => {
    const secret = generateSecret();
    const headers = webhookHeaders([secret], 'evt-2', 1700000000, 'body');
    expect(verify(secret, headers, 'body!', 1700000000)).toBe(false);
    expect(verify(generateSecret(), headers, 'body', 1700000000)).toBe(false);
    expect(verify(secret, headers, 'body', 1700000000 + 301)).toBe(false);
    expect(verify(secret, headers, 'body', 1700000000 + 299)).toBe(true);
  });
});
