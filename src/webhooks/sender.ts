import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { addressRefusal, type UrlPolicy } from './url-guard.js';
import { unbracket } from '../lib/host-name.js';
import { boundedMemo } from '../lib/bounded-memo.js';

export const RESPONSE_BODY_LIMIT = 4096;

/** What one POST produced. `status` is null when no response came (timeout, refused, DNS, SSRF). */
export interface SendResult {
  status: number | null;
  durationMs: number;
  error: string | null;
  /** First 4 KiB of the response body, decoded as UTF-8. */
  body: string | null;
  retryAfter: string | undefined;
}

export interface SenderOptions {
  timeoutMs: number;
  /** Connections kept per origin (undici keeps one pool per origin). */
  connectionsPerOrigin: number;
  policy: UrlPolicy;
}

class RefusedAddressError extends Error {}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The socket's own DNS lookup, with the SSRF check on every answer: a name that resolved to a public address
 * at registration cannot be re-pointed at 127.0.0.1 later. Uses the policy's resolver when it has one.
 */
export function guardedLookup(policy: UrlPolicy) {
  return (hostname: string, opts: { all?: boolean }, callback: LookupCallback): void => {
    const answer = (addresses: LookupAddress[]): void => {
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      const refusal = addresses.map((a) => addressRefusal(policy, hostname, a.address)).find((r) => r !== null);
      if (refusal) return callback(new RefusedAddressError(refusal), []);
      if (opts.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    };
    if (policy.lookup === undefined) {
      dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? callback(err, []) : answer(addresses)));
      return;
    }
    policy.lookup(hostname).then(
      (addresses) => answer(addresses.map((address) => ({ address, family: isIP(address) }))),
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}

/**
 * POSTs webhook bodies through one undici Agent: a keep-alive pool per origin, no redirects followed (3xx
 * is a failure), and the SSRF check again at connect time, in the socket's lookup.
 */
export class WebhookSender {
  private readonly agent: Agent;
  /**
   * Per callback URL, the SSRF refusal of its literal address (null: none, or a name the lookup checks): a
   * literal address never goes through the connect-time lookup, so it is checked here, once per URL.
   */
  private readonly literalRefusal = boundedMemo(4096, (url): string | null => {
    const host = unbracket(new URL(url).hostname);
    return isIP(host) ? addressRefusal(this.options.policy, host, host) : null;
  });
  /** The attempts in flight under each caller's shutdown signal, aborted together when it fires. */
  private readonly underSignal = new WeakMap<AbortSignal, Set<AbortController>>();

  constructor(private readonly options: SenderOptions) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      connect: { lookup: guardedLookup(options.policy), timeout: Math.min(options.timeoutMs, 10_000) },
    });
  }

  async send(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const done = (partial: Omit<SendResult, 'durationMs'>): SendResult => ({ ...partial, durationMs: Math.round((performance.now() - started) * 10) / 10 });
    const refusal = this.literalRefusal(url);
    if (refusal) return done({ status: null, error: refusal, body: null, retryAfter: undefined });

    // One controller per attempt, fired by its deadline or by the caller's shutdown signal: cheaper per
    // request than AbortSignal.timeout + AbortSignal.any (two more signals and their listeners per request).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs).unref();
    const siblings = signal ? this.siblingsUnder(signal) : undefined;
    siblings?.add(controller);
    if (signal?.aborted) controller.abort();
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', 'user-agent': 'Herald-Webhooks/1', ...headers },
        body,
        signal: controller.signal,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const text = await readLimited(response.body);
      const retryAfter = response.headers['retry-after'];
      return done({
        status: response.statusCode,
        error: response.statusCode >= 200 && response.statusCode < 300 ? null : `HTTP ${response.statusCode}`,
        body: text,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      });
    } catch (err) {
      const error = err as Error & { code?: string; cause?: Error };
      const message = timedOut
        ? `timed out after ${this.options.timeoutMs} ms`
        : signal?.aborted
          ? 'aborted: Herald shut down during the attempt'
          : error instanceof RefusedAddressError || error.cause instanceof RefusedAddressError
          ? (error.cause ?? error).message
          : `${error.code ?? error.name}: ${error.message}`;
      return done({ status: null, error: message, body: null, retryAfter: undefined });
    } finally {
      clearTimeout(timer);
      siblings?.delete(controller);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The set of controllers `signal` aborts; one listener per signal rather than one per request. */
  private siblingsUnder(signal: AbortSignal): Set<AbortController> {
    let set = this.underSignal.get(signal);
    if (!set) {
      const controllers = new Set<AbortController>();
      set = controllers;
      this.underSignal.set(signal, controllers);
      signal.addEventListener('abort', () => {
        for (const c of controllers) c.abort();
      }, { once: true });
    }
    return set;
  }
}

/** Reads up to RESPONSE_BODY_LIMIT bytes; a longer body is cut off (and its connection dropped). */
async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  if (size === 0) return null;
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8');
}
