import { describe, expect, it } from 'vitest';
import { GroupWindow } from '../src/events/group-window.js';

/** Feeds arrivals `gapMs` apart from t=0 and returns the time of the last one. */
function arrivals(window: GroupWindow, count: number, gapMs: number): number {
  let t = 0;
  for (let i = 0; i < count; i++) window.arrived((t = i * gapMs));
  return t;
}

describe('GroupWindow (adaptive group commit)', () => {
  it('waits about one gap while single publishes stream in at 1000/s, so they commit in groups', () => {
    const window = new GroupWindow({ fixedMs: 0, adaptiveMaxMs: 2 });
    const last = arrivals(window, 50, 1);
    expect(window.waitMs(last + 0.2, 1, 256)).toBeCloseTo(1, 5);
  });

  it('adds no wait at low load, after a pause, or to a full transaction', () => {
    const slow = new GroupWindow({ fixedMs: 0, adaptiveMaxMs: 2 });
    const last = arrivals(slow, 50, 10); // 100/s
    expect(slow.waitMs(last, 1, 256)).toBe(0);
    const paused = new GroupWindow({ fixedMs: 0, adaptiveMaxMs: 2 });
    const end = arrivals(paused, 50, 1);
    expect(paused.waitMs(end + 5, 1, 256)).toBe(0);
    const full = new GroupWindow({ fixedMs: 0, adaptiveMaxMs: 2 });
    expect(full.waitMs(arrivals(full, 50, 1), 256, 256)).toBe(0);
    expect(new GroupWindow({ fixedMs: 0, adaptiveMaxMs: 2 }).waitMs(0, 1, 256)).toBe(0); // the first publish ever
  });

  it('follows the arrival rate as it changes', () => {
    const window = new GroupWindow({ fixedMs: 0, adaptiveMaxMs: 2 });
    let t = arrivals(window, 50, 10);
    expect(window.waitMs(t, 1, 256)).toBe(0);
    for (let i = 0; i < 30; i++) window.arrived((t += 0.5));
    expect(window.waitMs(t, 1, 256)).toBeGreaterThan(0);
    expect(window.waitMs(t, 1, 256)).toBeLessThanOrEqual(2);
  });

  it('keeps HERALD_COMMIT_WINDOW a fixed wait, and the adaptive part off at 0', () => {
    const fixed = new GroupWindow({ fixedMs: 5, adaptiveMaxMs: 0 });
    expect(fixed.waitMs(arrivals(fixed, 10, 1), 1, 256)).toBe(5);
    const both = new GroupWindow({ fixedMs: 5, adaptiveMaxMs: 2 });
    expect(both.waitMs(arrivals(both, 10, 1), 1, 256)).toBe(5);
    expect(both.waitMs(arrivals(both, 10, 1), 256, 256)).toBe(0);
  });
});
