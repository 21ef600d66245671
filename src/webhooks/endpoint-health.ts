import type { HealthSignal } from './outcome-policy.js';
import type { SubscriptionHealth } from '../schemas/subscription.js';

export interface HealthPolicy {
  /** Consecutive failed attempts that open the circuit (HERALD_WEBHOOK_CIRCUIT_FAILURES; 0 = never). */
  circuitFailures: number;
  /** First cool-down of an open circuit; each re-open doubles it (HERALD_WEBHOOK_CIRCUIT_COOLDOWN). */
  coolDownMs: number;
  /** Longest cool-down (HERALD_WEBHOOK_CIRCUIT_MAX_COOLDOWN). */
  maxCoolDownMs: number;
  /** Disable the subscription after failing this long without a success (HERALD_WEBHOOK_DISABLE_AFTER; 0 = never). */
  disableAfterMs: number;
}

export type Circuit = 'closed' | 'open' | 'half_open';

/** One endpoint's health; times are epoch ms. Stored on the subscription row on every transition. */
export interface EndpointHealth {
  circuit: Circuit;
  consecutive_failures: number;
  /** How many times the circuit opened since it was last closed: the cool-down's exponent. */
  openings: number;
  /** Start of the current run of failures (null after a success). */
  failing_since: number | null;
  /** No request before this (a Retry-After pause). */
  paused_until: number | null;
  /** Open: when the probe may go. Half-open: when another probe may go if this one never reports. */
  next_probe_at: number | null;
  /** Set once the endpoint is disabled (410 Gone or HERALD_WEBHOOK_DISABLE_AFTER). */
  disabled_reason: string | null;
}

/** The transitions worth an operational event (system_alert). */
export type HealthTransition = 'failing' | 'paused' | 'circuit_open' | 'circuit_half_open' | 'recovered' | 'disabled';

export type Admission =
  | { send: true; probe?: boolean }
  | { send: false; notBefore: number; reason: 'circuit_open' | 'paused' | 'throttled' | 'disabled' };

export const healthyEndpoint = (): EndpointHealth => ({
  circuit: 'closed', consecutive_failures: 0, openings: 0, failing_since: null, paused_until: null, next_probe_at: null, disabled_reason: null,
});

const PROBE_RECHECK_MS = 1000;

const coolDown = (policy: HealthPolicy, openings: number): number =>
  Math.min(policy.maxCoolDownMs, policy.coolDownMs * 2 ** Math.min(openings, 30));

/**
 * May a request go to this endpoint at `now`? Not while it is paused or its circuit is open; when an open
 * circuit's cool-down has passed, exactly one request goes as the half-open probe (and the state says so).
 */
export function admitHealth(health: EndpointHealth, policy: HealthPolicy, now: number): { admission: Admission; health: EndpointHealth; transition?: HealthTransition } {
  if (health.disabled_reason !== null) return { admission: { send: false, notBefore: Number.POSITIVE_INFINITY, reason: 'disabled' }, health };
  if (health.paused_until !== null && health.paused_until > now) return { admission: { send: false, notBefore: health.paused_until, reason: 'paused' }, health };
  // A pause that is over is forgotten, so the state says so.
  if (health.paused_until !== null) health = { ...health, paused_until: null };
  if (health.circuit === 'closed') return { admission: { send: true }, health };
  const probeAt = health.next_probe_at ?? now;
  // While a probe is out, look again soon: its success closes the circuit long before its deadline.
  const notBefore = health.circuit === 'half_open' ? Math.min(probeAt, now + PROBE_RECHECK_MS) : probeAt;
  if (probeAt > now) return { admission: { send: false, notBefore, reason: 'circuit_open' }, health };
  // A probe that never reports (a crash, a lost outcome) is replaced after one more cool-down.
  const next = { ...health, circuit: 'half_open' as const, next_probe_at: now + coolDown(policy, Math.max(0, health.openings - 1)) };
  return { admission: { send: true, probe: true }, health: next, ...(health.circuit === 'open' && { transition: 'circuit_half_open' as const }) };
}

/**
 * Applies one attempt's signal. A success closes the circuit and ends a failing run; a failure counts
 * toward opening it (a failed probe re-opens it with a doubled cool-down); a Retry-After pause extends the
 * pause; 410 Gone, or failing for `disableAfterMs`, disables the endpoint. Returns the transitions, in order.
 */
export function recordHealth(health: EndpointHealth, signal: HealthSignal, policy: HealthPolicy, now: number): { health: EndpointHealth; transitions: HealthTransition[] } {
  if (health.disabled_reason !== null) return { health, transitions: [] };
  const transitions: HealthTransition[] = [];
  if (signal.kind === 'success') {
    const wasUnhealthy = health.failing_since !== null || health.circuit !== 'closed';
    if (wasUnhealthy) transitions.push('recovered');
    return { health: { ...healthyEndpoint(), paused_until: health.paused_until }, transitions };
  }
  const at = new Date(now).toISOString();
  if (signal.kind === 'gone') {
    return { health: { ...health, disabled_reason: `the receiver answered 410 Gone at ${at}` }, transitions: ['disabled'] };
  }
  const next: EndpointHealth = { ...health, consecutive_failures: health.consecutive_failures + 1 };
  if (next.failing_since === null) {
    next.failing_since = now;
    transitions.push('failing');
  }
  if (signal.pauseUntil !== undefined && signal.pauseUntil > (next.paused_until ?? now)) {
    next.paused_until = signal.pauseUntil;
    transitions.push('paused');
  }
  const trips = policy.circuitFailures > 0 && (health.circuit === 'half_open' || (health.circuit === 'closed' && next.consecutive_failures >= policy.circuitFailures));
  if (trips) {
    next.circuit = 'open';
    next.next_probe_at = now + coolDown(policy, next.openings);
    next.openings += 1;
    transitions.push('circuit_open');
  }
  if (policy.disableAfterMs > 0 && next.failing_since !== null && now - next.failing_since >= policy.disableAfterMs) {
    next.disabled_reason = `deliveries failed continuously since ${new Date(next.failing_since).toISOString()} (HERALD_WEBHOOK_DISABLE_AFTER)`;
    transitions.push('disabled');
  }
  return { health: next, transitions };
}

/** One word for the API and the dashboard: the most severe thing true of the endpoint at `now`. */
export function healthState(health: EndpointHealth, now: number): 'healthy' | 'failing' | 'paused' | 'circuit_open' | 'circuit_half_open' | 'disabled' {
  if (health.disabled_reason !== null) return 'disabled';
  if (health.circuit === 'open') return 'circuit_open';
  if (health.circuit === 'half_open') return 'circuit_half_open';
  if (health.paused_until !== null && health.paused_until > now) return 'paused';
  return health.failing_since !== null ? 'failing' : 'healthy';
}

/** The form kept on the subscription row: the health, and its state word when it was written. */
export interface StoredHealth extends EndpointHealth {
  state: ReturnType<typeof healthState>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The API's `health` object from the stored one (a subscription that never had one is healthy). The
 * top-level `is_active`, `failing_since` and `disabled_reason` win: the inactivity rule and PATCH set those.
 */
export function healthView(
  stored: StoredHealth | undefined,
  sub: { is_active: boolean; failing_since: string | null; disabled_reason: string | null },
): SubscriptionHealth {
  const h = stored ?? { ...healthyEndpoint(), state: 'healthy' as const };
  return {
    state: sub.is_active ? (h.state === 'disabled' ? 'healthy' : h.state) : 'disabled',
    circuit: h.circuit,
    consecutive_failures: h.consecutive_failures,
    failing_since: sub.failing_since,
    paused_until: iso(h.paused_until),
    next_probe_at: iso(h.next_probe_at),
    disabled_reason: sub.disabled_reason,
  };
}
