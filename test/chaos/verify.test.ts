/**
 * The chaos checks catch what they are there for: each verdict is fed a record with one fault injected
 * (a lost ack, a stream gap, a duplicate across a reconnect, a re-sent webhook) and must name it.
 */
import { describe, expect, it } from 'vitest';
import { rngFor } from './random.js';
import { matchesFilter } from './resumers.js';
import { checkDeliveries, checkHistory, checkStream } from './verify.js';

const ev = (event_id: string, seq: number) => ({ event_id, seq });

describe('chaos checks', () => {
  it('history: passes a clean record and names lost, duplicated, unknown, re-sequenced and unordered events', () => {
    const acked = new Map([['a', 1], ['b', 2], ['c', 5]]);
    const attempted = new Set(['a', 'b', 'c', 'd']);
    expect(checkHistory([ev('a', 1), ev('b', 2), ev('d', 4), ev('c', 5)], acked, attempted)).toEqual({
      stored: 4, lost: [], duplicates: 0, unknown: [], seqMismatch: [], nonIncreasing: 0,
    });
    const broken = checkHistory([ev('a', 1), ev('x', 3), ev('a', 3), ev('c', 2)], acked, attempted);
    expect(broken).toEqual({ stored: 4, lost: ['b'], duplicates: 1, unknown: ['x'], seqMismatch: ['c'], nonIncreasing: 2 });
  });

  it('stream: a gap, a duplicate after a reconnect, a reordering and a foreign event are each counted', () => {
    expect(checkStream([1, 3, 4, 7], [1, 3, 4, 7])).toMatchObject({ gaps: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 });
    expect(checkStream([1, 3, 4, 7], [1, 3, 7])).toMatchObject({ gaps: 1, duplicates: 0, outOfOrder: 0 });
    // Reconnected after 4 but the replay started at 3 again.
    expect(checkStream([1, 3, 4, 7], [1, 3, 4, 3, 4, 7])).toMatchObject({ gaps: 0, duplicates: 2, outOfOrder: 1 });
    expect(checkStream([1, 3, 4, 7], [1, 4, 3, 7])).toMatchObject({ gaps: 0, duplicates: 0, outOfOrder: 1 });
    expect(checkStream([1, 3], [1, 2, 3])).toMatchObject({ unexpected: 1 });
  });

  it('deliveries: a 500 is not a delivery; a re-send after a kill is explained, one within a generation is not', () => {
    const generations = [
      { number: 1, startedAt: 0, signal: 'SIGKILL' as const },
      { number: 2, startedAt: 100, signal: 'SIGTERM' as const },
      { number: 3, startedAt: 200 },
    ];
    const answers = [
      { id: 'a', status: 204, at: 10 }, // generation 1, killed before it recorded the outcome…
      { id: 'a', status: 204, at: 110 }, // …so generation 2 sends it again: explained
      { id: 'b', status: 500, at: 20 },
      { id: 'b', status: 204, at: 30 },
      { id: 'c', status: 204, at: 120 },
      { id: 'c', status: 204, at: 130 }, // twice from generation 2: unexplained
      { id: 'd', status: 204, at: 150 }, // generation 2 stopped gracefully…
      { id: 'd', status: 204, at: 210 }, // …and its outcome should have been recorded: unexplained
      { id: 'z', status: 204, at: 220 },
    ];
    const check = checkDeliveries(new Set(['a', 'b', 'c', 'd', 'e']), answers, generations);
    expect(check).toEqual({
      expected: 5, delivered: 4, missing: ['e'], duplicates: 3, perKill: { 1: 1 }, unexplained: 2, unknown: ['z'],
      requests: 9, failedAnswers: 1,
    });
  });

  it('the oracle filter matches exact types, wildcards and priorities on its own', () => {
    const e = { event_type: 'chaos_c', priority: 'high' };
    expect(matchesFilter({}, e)).toBe(true);
    expect(matchesFilter({ types: ['chaos_a', 'chaos_c'] }, e)).toBe(true);
    expect(matchesFilter({ types: ['chaos_a'] }, e)).toBe(false);
    expect(matchesFilter({ types: ['chaos_*'], priority: ['high', 'critical'] }, e)).toBe(true);
    expect(matchesFilter({ types: ['chaos_*'], priority: ['low'] }, e)).toBe(false);
    expect(matchesFilter({ types: ['chaos'] }, e)).toBe(false);
  });

  it('a seed replays the same decisions per actor, and actors draw different streams', () => {
    const draw = (seed: number, actor: string) => {
      const rng = rngFor(seed, actor);
      return Array.from({ length: 5 }, () => rng.int(0, 1_000_000));
    };
    expect(draw(42, 'killer')).toEqual(draw(42, 'killer'));
    expect(draw(42, 'killer')).not.toEqual(draw(43, 'killer'));
    expect(draw(42, 'killer')).not.toEqual(draw(42, 'resumer-0'));
  });
});
