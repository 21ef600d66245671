/**
 * Webhook receivers for the chaos run: real HTTP servers on 127.0.0.1, one per subscription. One answers
 * 204 to everything; a flaky one answers 500 at random (seeded), so retries happen across the kills. Every
 * answer is logged with its webhook-id and time, which is what delivery and duplicate accounting reads.
 */
import { verifyWebhook } from '../../src/client/index.js';
import { json } from '../helpers/deliveries.js';
import { startReceiver, webhookId, type Receiver } from '../helpers/receiver.js';
import { rngFor } from './random.js';
import type { StreamFilter } from './resumers.js';

export interface HookAnswer {
  id: string;
  status: number;
  /** Date.now() when the receiver answered. */
  at: number;
}

export class Hook {
  readonly answers: HookAnswer[] = [];
  readonly delivered = new Set<string>();
  subscriptionId = '';
  badSignatures = 0;
  private secret = '';
  private signatureChecks: Array<Promise<void>> = [];
  private waiting: { pending: Set<string>; wake: () => void } | null = null;

  private constructor(
    readonly name: string,
    /** Which events the subscription takes (types and priority, as in POST /subscriptions). */
    readonly filter: StreamFilter,
    readonly receiver: Receiver,
  ) {}

  /**
   * A receiver that fails `failRate` of its requests with 500. Every `verifyEvery`-th request's signature is
   * checked with the client library's verifier (all of them would cost the run more CPU than it is worth).
   */
  static async start(seed: number, name: string, filter: StreamFilter, failRate: number, verifyEvery = 50): Promise<Hook> {
    const rng = rngFor(seed, `hook-${name}`);
    const receiver = await startReceiver();
    const hook = new Hook(name, filter, receiver);
    receiver.respond = (n, request) => {
      const id = webhookId(request);
      const status = rng.chance(failRate) ? 500 : 204;
      hook.answers.push({ id, status, at: Date.now() });
      if (n % verifyEvery === 0) {
        hook.signatureChecks.push(
          verifyWebhook(hook.secret, request.headers, request.body, { now: request.at }).then(
            () => undefined,
            () => void hook.badSignatures++,
          ),
        );
      }
      if (status === 204) hook.onDelivered(id);
      return { status };
    };
    return hook;
  }

  /** POST /subscriptions for this receiver. */
  async subscribe(serverUrl: string): Promise<void> {
    const res = await fetch(`${serverUrl}/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        subscriber_name: `chaos-${this.name}`,
        callback_url: this.receiver.url,
        ...(this.filter.types && { event_types: this.filter.types }),
        ...(this.filter.priority && { filters: { priority: this.filter.priority } }),
      }),
    });
    const body = await json<{ subscription_id: string; secret: string }>(res);
    if (res.status !== 201) throw new Error(`POST /subscriptions answered ${res.status}: ${JSON.stringify(body)}`);
    this.subscriptionId = body.subscription_id;
    this.secret = body.secret;
  }

  /** Resolves once every id in `ids` got a 2xx from this receiver; rejects after `timeoutMs`. */
  waitDelivered(ids: Iterable<string>, timeoutMs: number): Promise<void> {
    const pending = new Set([...ids].filter((id) => !this.delivered.has(id)));
    if (pending.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`${this.name}: ${pending.size} deliveries still missing after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = { pending, wake: () => (clearTimeout(timer), resolve()) };
    });
  }

  /** Waits for the signature checks started so far. */
  async signaturesChecked(): Promise<number> {
    await Promise.all(this.signatureChecks);
    return this.signatureChecks.length;
  }

  private onDelivered(id: string): void {
    this.delivered.add(id);
    const waiting = this.waiting;
    if (waiting && waiting.pending.delete(id) && waiting.pending.size === 0) {
      this.waiting = null;
      waiting.wake();
    }
  }
}
