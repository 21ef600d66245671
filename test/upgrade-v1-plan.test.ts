import { describe, expect, it } from 'vitest';
import { SEGMENT_MAX_EVENTS } from '../src/store/segment-rows.js';
import { UPGRADE_SEGMENT_EVENTS, planSegments } from '../src/store/upgrade-v1-plan.js';

const seqs = (...xs: number[]) => xs.map((seq) => ({ seq }));
const shape = (plan: ReturnType<typeof planSegments<{ seq: number }>>) => plan.map((s) => [s.first, s.items.map((i) => i.seq)]);

describe('planSegments (grouping 0.1.0 events into upgraded segments)', () => {
  it('tiles the seq space: each segment starts right after the previous one, across gaps', () => {
    expect(shape(planSegments(seqs(3, 4, 7, 8, 9, 12), 2, 2))).toEqual([[3, [3, 4]], [5, [7, 8]], [9, [9, 12]]]);
    // The first segment starts after the last seq already moved (or purged), not at its first event.
    expect(shape(planSegments(seqs(10, 11), 5))).toEqual([[6, [10, 11]]]);
  });

  it(`holds at most ${UPGRADE_SEGMENT_EVENTS} events per segment by default`, () => {
    const plan = planSegments(seqs(...Array.from({ length: 600 }, (_, i) => i + 1)), 0);
    expect(plan.map((s) => s.items.length)).toEqual([256, 256, 88]);
    expect(plan.map((s) => s.first)).toEqual([1, 257, 513]);
  });

  it(`never spans more than SEGMENT_MAX_EVENTS (${SEGMENT_MAX_EVENTS}) seqs: a longer gap stays outside every segment`, () => {
    const far = 1 + SEGMENT_MAX_EVENTS * 3;
    const plan = planSegments(seqs(1, 2, far, far + 1, far + SEGMENT_MAX_EVENTS), 0);
    expect(shape(plan)).toEqual([
      [1, [1, 2]],
      [far + 1 - SEGMENT_MAX_EVENTS + 1, [far, far + 1]],
      [far + 2, [far + SEGMENT_MAX_EVENTS]],
    ]);
    for (const s of plan) expect((s.items.at(-1)?.seq ?? 0) - s.first).toBeLessThan(SEGMENT_MAX_EVENTS);
  });

  it('plans nothing for no events', () => {
    expect(planSegments([], 7)).toEqual([]);
  });
});
