import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { boundedMemo } from '../lib/bounded-memo.js';

/** Standard Webhooks secrets are `whsec_` + base64 of the key bytes. */
export const SECRET_PREFIX = 'whsec_';

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** Decoded keys by secret: every delivery signs, and a subscription has one or two secrets. */
const keyOf = boundedMemo(4096, (secret): KeyObject => {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`webhook secrets start with ${SECRET_PREFIX}`);
  return createSecretKey(Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64'));
});

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` for one secret. */
export function sign(secret: string, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three Standard Webhooks headers; during a secret rotation every live secret signs (space-separated). */
export function webhookHeaders(secrets: string[], id: string, timestampS: number, body: string): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': secrets.map((s) => sign(s, id, timestampS, body)).join(' '),
  };
}
