import { describe, expect, it } from 'vitest';
import type { Event } from '../src/schemas/event.js';
import { Router, type EventSink, type Routable } from '../src/stream/router.js';
import { and } from '../src/events/filter.js';
import { compileSelection, subscriptionSelection } from '../src/events/selection.js';

const event = (eventType: string, seq: number): Event => ({
  event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, event_type: eventType, source: 's', target: null,
  payload: {}, metadata: {}, timestamp: new Date(0).toISOString(), priority: 'normal', correlation_id: null,
  workflow_id: null, session_id: null, retry_count: 0, max_retries: null, expires_at: null, seq,
});

/** A sink that records what it was offered, and subscriptions that count how often they are tested. */
function harness() {
  const offers: Array<{ seq: number; matched: Routable[] }> = [];
  const sink: EventSink = { offer: (e, matched) => offers.push({ seq: e.seq, matched }) };
  const tests = new Map<Routable, number>();
  const subscription = (eventTypes: string[]): Routable => {
    const predicate = compileSelection(subscriptionSelection(eventTypes, and()));
    const sub: Routable = {
      eventTypes,
      connection: sink,
      matches: (e) => {
        tests.set(sub, (tests.get(sub) ?? 0) + 1);
        return predicate(e);
      },
    };
    return sub;
  };
  return { offers, tests, subscription };
}

describe('Router.dispatch', () => {
  it('tests and offers each subscription once per event, even one indexed by type and by wildcard', () => {
    const { offers, tests, subscription } = harness();
    const router = new Router();
    const subs = Array.from({ length: 1000 }, () => subscription(['task_progress', 'task_*']));
    const other = subscription(['custom']);
    for (const sub of [...subs, other]) router.add(sub);

    router.dispatch([event('task_progress', 1), event('task_started', 2), event('custom', 3)]);

    expect(offers.map((o) => [o.seq, o.matched.length])).toEqual([[1, 1000], [2, 1000], [3, 1]]);
    expect(new Set(offers[0]?.matched).size).toBe(1000);
    expect(offers[2]?.matched).toEqual([other]);
    // Every wildcard sub is tested against all three events, task_progress included although it meets
    // each of them twice (in its type index and in the wildcard set).
    expect(new Set(subs.map((sub) => tests.get(sub)))).toEqual(new Set([3]));
    expect(tests.get(other)).toBe(1);
  });

  it('stops offering to a removed subscription', () => {
    const { offers, subscription } = harness();
    const router = new Router();
    const sub = subscription(['a', 'a*']);
    router.add(sub);
    router.remove(sub);
    router.dispatch([event('a', 1)]);
    expect(offers).toEqual([]);
    expect(router.size).toBe(0);
  });
});
