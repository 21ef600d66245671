import { WebhookVerificationError } from './errors.js';
import type { WebhookPayload } from './types.js';

/** Node's `IncomingHttpHeaders`, a plain object of any case, or a fetch `Headers`. */
export type WebhookHeaders = Headers | Record<string, string | readonly string[] | undefined>;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, either way (default 300 s, as Standard Webhooks). */
  toleranceSeconds?: number;
  /** The receiver's clock (default `Date.now()`). */
  now?: Date | number;
}

const SECRET_PREFIX = 'whsec_';

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.join(' ');
  }
  return undefined;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Compares every byte whatever differs, so the time taken does not tell an attacker how much was right. */
function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false; // the length of an HMAC-SHA256 is no secret
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Checks a Herald (Standard Webhooks) request: a fresh `webhook-timestamp` and one `v1,<base64>` signature
 * in `webhook-signature` (several during a secret rotation) equal to HMAC-SHA256 of
 * `<webhook-id>.<webhook-timestamp>.<raw body>` under the base64-decoded secret. Resolves with the parsed
 * body; rejects with a `WebhookVerificationError` naming the reason. Pass the body exactly as received
 * (bytes or text), before any JSON parsing. Uses Web Crypto, so it is async and runs in browsers and Node.
 */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyOptions = {},
): Promise<WebhookPayload> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError('missing_header', 'webhook-id, webhook-timestamp and webhook-signature are required');
  }
  if (!/^[0-9]{1,15}$/.test(timestamp)) throw new WebhookVerificationError('invalid_timestamp', `webhook-timestamp ${timestamp} is not unix seconds`);
  const nowS = Math.floor(Number(options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(nowS - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError('timestamp_out_of_tolerance', `webhook-timestamp ${timestamp} is more than ${tolerance} s from now (${nowS})`);
  }

  const key = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (!key || key.length === 0) throw new WebhookVerificationError('invalid_secret', 'the secret is not whsec_ followed by base64');
  const body = typeof rawBody === 'string' ? new TextEncoder().encode(rawBody) : rawBody;
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const hmacKey = await globalThis.crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const expected = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', hmacKey, signed));

  const matches = signatures.split(' ').some((candidate) => {
    const comma = candidate.indexOf(',');
    if (candidate.slice(0, comma) !== 'v1') return false;
    const given = fromBase64(candidate.slice(comma + 1));
    return given !== undefined && equalInConstantTime(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('invalid_signature', 'no webhook-signature matches the body under this secret');

  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookPayload;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the signed body is not JSON');
  }
}
