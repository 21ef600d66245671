import { describe, expect, it } from 'vitest';
import { admitHealth, healthState, healthyEndpoint, recordHealth, type EndpointHealth, type HealthPolicy } from '../src/webhooks/endpoint-health.js';
import type { HealthSignal } from '../src/webhooks/outcome-policy.js';
import { TokenBucket } from '../src/webhooks/throttle.js';

const policy: HealthPolicy = { circuitFailures: 3, coolDownMs: 30_000, maxCoolDownMs: 100_000, disableAfterMs: 0 };
const t0 = Date.UTC(2026, 10, 29, 12);
const failure: HealthSignal = { kind: 'failure' };

function fail(h: EndpointHealth, n: number, now: number, p = policy) {
  const transitions = [];
  for (let i = 0; i < n; i++) {
    const r = recordHealth(h, failure, p, now);
    h = r.health;
    transitions.push(...r.transitions);
  }
  return { health: h, transitions };
}

describe('endpoint health', () => {
  it('opens the circuit after N consecutive failures; a success in between starts the count again', () => {
    let h = fail(healthyEndpoint(), 2, t0).health;
    h = recordHealth(h, { kind: 'success' }, policy, t0).health;
    const run = fail(h, 3, t0);
    expect(run.transitions).toEqual(['failing', 'circuit_open']);
    expect(run.health).toMatchObject({ circuit: 'open', consecutive_failures: 3, failing_since: t0, next_probe_at: t0 + 30_000 });
    expect(healthState(run.health, t0)).toBe('circuit_open');
  });

  it('holds requests while open, lets exactly one probe through after the cool-down, and closes on its success', () => {
    const open = fail(healthyEndpoint(), 3, t0).health;
    expect(admitHealth(open, policy, t0 + 29_999).admission).toEqual({ send: false, notBefore: t0 + 30_000, reason: 'circuit_open' });
    const probe = admitHealth(open, policy, t0 + 30_000);
    expect(probe.admission).toEqual({ send: true, probe: true });
    expect(probe.transition).toBe('circuit_half_open');
    expect(admitHealth(probe.health, policy, t0 + 30_001).admission).toMatchObject({ send: false, reason: 'circuit_open' });
    const closed = recordHealth(probe.health, { kind: 'success' }, policy, t0 + 30_100);
    expect(closed.transitions).toEqual(['recovered']);
    expect(closed.health).toEqual(healthyEndpoint());
    expect(admitHealth(closed.health, policy, t0 + 30_100).admission).toEqual({ send: true });
  });

  it('re-opens on a failed probe with a doubled cool-down, up to the maximum', () => {
    let h = fail(healthyEndpoint(), 3, t0).health;
    const waits: number[] = [];
    let now = t0;
    for (let i = 0; i < 4; i++) {
      now = h.next_probe_at as number;
      const probe = admitHealth(h, policy, now);
      expect(probe.admission).toEqual({ send: true, probe: true });
      const r = recordHealth(probe.health, failure, policy, now);
      expect(r.transitions).toEqual(['circuit_open']);
      h = r.health;
      waits.push((h.next_probe_at as number) - now);
    }
    expect(waits).toEqual([60_000, 100_000, 100_000, 100_000]);
  });

  it('sends another probe when the first never reports', () => {
    const open = fail(healthyEndpoint(), 3, t0).health;
    const probe = admitHealth(open, policy, t0 + 30_000);
    expect(admitHealth(probe.health, policy, t0 + 60_000)).toMatchObject({ admission: { send: true, probe: true } });
  });

  it('pauses the endpoint until Retry-After, without opening the circuit early', () => {
    const r = recordHealth(healthyEndpoint(), { kind: 'failure', pauseUntil: t0 + 120_000 }, policy, t0);
    expect(r.transitions).toEqual(['failing', 'paused']);
    expect(r.health.circuit).toBe('closed');
    expect(healthState(r.health, t0)).toBe('paused');
    expect(admitHealth(r.health, policy, t0 + 119_999).admission).toEqual({ send: false, notBefore: t0 + 120_000, reason: 'paused' });
    expect(admitHealth(r.health, policy, t0 + 120_000).admission).toEqual({ send: true });
    // A shorter pause does not cut a longer one.
    expect(recordHealth(r.health, { kind: 'failure', pauseUntil: t0 + 1000 }, policy, t0).health.paused_until).toBe(t0 + 120_000);
  });

  it('disables on 410 Gone and after failing for disableAfterMs; nothing goes to a disabled endpoint', () => {
    const gone = recordHealth(healthyEndpoint(), { kind: 'gone' }, policy, t0);
    expect(gone.transitions).toEqual(['disabled']);
    expect(gone.health.disabled_reason).toMatch(/410 Gone/);
    const p = { ...policy, circuitFailures: 0, disableAfterMs: 5 * 86_400_000 };
    let h = fail(healthyEndpoint(), 1, t0, p).health;
    expect(recordHealth(h, failure, p, t0 + p.disableAfterMs - 1).transitions).toEqual([]);
    const disabled = recordHealth(h, failure, p, t0 + p.disableAfterMs);
    expect(disabled.transitions).toEqual(['disabled']);
    h = disabled.health;
    expect(h.disabled_reason).toMatch(/HERALD_WEBHOOK_DISABLE_AFTER/);
    expect(healthState(h, t0)).toBe('disabled');
    expect(admitHealth(h, p, t0 + p.disableAfterMs).admission).toMatchObject({ send: false, reason: 'disabled' });
  });

  it('never opens with circuitFailures 0', () => {
    expect(fail(healthyEndpoint(), 100, t0, { ...policy, circuitFailures: 0 }).health.circuit).toBe('closed');
  });
});

describe('throttle', () => {
  it('admits `rate` per second after a burst of one second', () => {
    const bucket = new TokenBucket(5, t0);
    const admitted = (now: number) => Array.from({ length: 20 }, () => bucket.take(now)).filter((w) => w === 0).length;
    expect(admitted(t0)).toBe(5);
    expect(bucket.take(t0)).toBe(200);
    expect(admitted(t0 + 1000)).toBe(5);
    expect(admitted(t0 + 1400)).toBe(2);
  });

  it('spaces out a rate below one per second', () => {
    const bucket = new TokenBucket(0.5, t0);
    expect(bucket.take(t0)).toBe(0);
    expect(bucket.take(t0)).toBe(2000);
    expect(bucket.take(t0 + 2000)).toBe(0);
  });
});
