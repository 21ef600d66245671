import type { FastifyBaseLogger } from 'fastify';
import type { EndpointAlert } from '../schemas/system-alert.js';
import type { SubscriptionChanges, SubscriptionWithSecrets } from '../store/subscription-repository.js';
import {
  admitHealth, healthState, healthyEndpoint, recordHealth,
  type Admission, type EndpointHealth, type HealthPolicy, type HealthTransition, type StoredHealth,
} from './endpoint-health.js';
import type { HealthSignal } from './outcome-policy.js';
import { TokenBucket } from './throttle.js';

export interface GateDeps {
  /** The subscription as this process knows it (the subscription index). */
  lookup: (id: string) => SubscriptionWithSecrets | undefined;
  /** Writes health changes on the subscription row (the repository's update). */
  save: (id: string, changes: SubscriptionChanges) => Promise<unknown>;
  /** Called after a subscription was disabled here (the index reloads, so nothing more is planned for it). */
  disabled: () => Promise<void>;
  /** Publishes a `system_alert` event. */
  alert: (alert: EndpointAlert) => Promise<unknown>;
  log: FastifyBaseLogger;
}

interface Endpoint {
  health: EndpointHealth;
  /** The row's stored health as last seen, and as this process last wrote it (JSON): a change by anyone else is adopted. */
  seen: string;
  written: string;
  bucket?: TokenBucket;
  lastActivityWrite: number;
  writing: Promise<unknown>;
}

/** last_activity (which the inactivity rule reads) is written at most this often per subscription. */
const ACTIVITY_WRITE_MS = 60_000;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Whether a request may go to a subscription's endpoint now (circuit, Retry-After pause, `rate_limit`), and
 * what each attempt's outcome does to its health. Health lives in memory; every change of state is written
 * on the subscription row — so a restarted or other replica starts from it — and published as a
 * `system_alert` event (docs/webhooks.md#endpoint-health).
 */
export class EndpointGate {
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly deps: GateDeps, private readonly policy: HealthPolicy) {}

  admit(subscriptionId: string, now: number): Admission {
    const endpoint = this.endpoint(subscriptionId, now);
    if (!endpoint) return { send: true };
    const { admission, health, transition } = admitHealth(endpoint.health, this.policy, now);
    if (admission.send && !admission.probe && endpoint.bucket) {
      const wait = endpoint.bucket.take(now);
      if (wait > 0) return { send: false, notBefore: now + wait, reason: 'throttled' };
    }
    this.apply(subscriptionId, endpoint, health, transition ? [transition] : [], now);
    return admission;
  }

  /** Applies one attempt's outcome; `detail` (the attempt's error) goes into an alert's reason. */
  record(subscriptionId: string, signal: HealthSignal, now: number, detail?: string | null): void {
    const endpoint = this.endpoint(subscriptionId, now);
    if (!endpoint) return;
    const { health, transitions } = recordHealth(endpoint.health, signal, this.policy, now);
    const activity = now - endpoint.lastActivityWrite >= ACTIVITY_WRITE_MS;
    if (activity) endpoint.lastActivityWrite = now;
    this.apply(subscriptionId, endpoint, health, transitions, now, activity, detail ?? undefined);
  }

  /** The endpoint's state, synced with its row: a change another replica or a PATCH wrote wins. */
  private endpoint(id: string, now: number): Endpoint | undefined {
    const entry = this.deps.lookup(id);
    if (!entry) {
      this.endpoints.delete(id);
      return undefined;
    }
    const row = JSON.stringify(entry.endpointHealth ?? null);
    let endpoint = this.endpoints.get(id);
    if (!endpoint) {
      endpoint = { health: fromRow(entry), seen: row, written: row, lastActivityWrite: 0, writing: Promise.resolve() };
      this.endpoints.set(id, endpoint);
    } else if (row !== endpoint.seen) {
      endpoint.seen = row;
      if (row !== endpoint.written) endpoint.health = fromRow(entry);
    }
    const rate = entry.subscription.rate_limit;
    if (rate === null || rate === undefined) delete endpoint.bucket;
    else if (endpoint.bucket?.rate !== rate) endpoint.bucket = new TokenBucket(rate, now);
    return endpoint;
  }

  private apply(id: string, endpoint: Endpoint, health: EndpointHealth, transitions: HealthTransition[], now: number, activity = false, detail?: string): void {
    const before = healthState(endpoint.health, now);
    endpoint.health = health;
    const state = healthState(health, now);
    if (transitions.length === 0 && state === before && !activity) return;
    const changes: SubscriptionChanges = { updated_at: new Date(now).toISOString() };
    if (activity) changes.last_activity = changes.updated_at as string;
    if (transitions.length > 0 || state !== before) {
      const stored: StoredHealth = { ...health, state };
      endpoint.written = JSON.stringify(stored);
      Object.assign(changes, { endpoint_health: stored, failing_since: iso(health.failing_since) });
    }
    const disabled = transitions.includes('disabled');
    if (disabled) {
      Object.assign(changes, { is_active: false, disabled_reason: health.disabled_reason });
      this.deps.log.warn({ subscription: id, reason: health.disabled_reason }, 'webhook subscription disabled');
    }
    const entry = this.deps.lookup(id);
    // The in-memory copy changes at once, so the worker sees a disabled subscription before the reload.
    if (entry) {
      entry.subscription.failing_since = iso(health.failing_since);
      if (disabled) Object.assign(entry.subscription, { is_active: false, disabled_reason: health.disabled_reason });
    }
    endpoint.writing = endpoint.writing
      .then(() => this.deps.save(id, changes))
      .then(() => (disabled ? this.deps.disabled() : undefined))
      .catch((err) => this.deps.log.warn({ err, subscription: id }, 'could not save webhook endpoint health'));
    for (const transition of transitions) {
      const alert = toAlert(id, entry?.subscription.subscriber_name ?? '', transition, health, now, detail);
      void this.deps.alert(alert).catch((err) => this.deps.log.warn({ err, alert }, 'could not publish system_alert'));
    }
  }
}

function fromRow(entry: SubscriptionWithSecrets): EndpointHealth {
  const { state: _state, ...stored } = entry.endpointHealth ?? { ...healthyEndpoint(), state: 'healthy' };
  const { failing_since, disabled_reason, is_active } = entry.subscription;
  // Rows written before endpoint health existed carry only the top-level failing run.
  return { ...stored, failing_since: stored.failing_since ?? (failing_since === null ? null : Date.parse(failing_since)), disabled_reason: is_active ? null : stored.disabled_reason ?? disabled_reason };
}

function toAlert(id: string, subscriber: string, state: HealthTransition, h: EndpointHealth, now: number, detail?: string): EndpointAlert {
  const reasons: Record<HealthTransition, string> = {
    failing: `an attempt failed${detail ? `: ${detail}` : ''}; deliveries are retried`,
    paused: `the receiver asked to wait (Retry-After) until ${iso(h.paused_until)}`,
    circuit_open: `${h.consecutive_failures} attempts failed in a row; one probe request at ${iso(h.next_probe_at)}`,
    circuit_half_open: 'the cool-down is over; one probe request goes now',
    recovered: 'an attempt succeeded',
    disabled: h.disabled_reason ?? 'disabled',
  };
  return {
    alert: 'webhook_endpoint', subscription_id: id, subscriber_name: subscriber, state, reason: reasons[state], at: new Date(now).toISOString(),
    circuit: h.circuit, consecutive_failures: h.consecutive_failures, failing_since: iso(h.failing_since), paused_until: iso(h.paused_until), next_probe_at: iso(h.next_probe_at),
  };
}
