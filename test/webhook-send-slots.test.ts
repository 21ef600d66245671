import { afterEach, describe, expect, it, vi } from 'vitest';
import { SendSlots, TICK_MS } from '../src/webhooks/send-slots.js';
import { OutcomeBuffer, type Pending } from '../src/webhooks/outcome-buffer.js';
import { atRedoBound, redoRoom } from '../src/webhooks/redo-bound.js';
import type { SettledDelivery } from '../src/webhooks/worker.js';

describe('send slots: one bound for first attempts and retries', () => {
  it('counts both sides against the total and the per-subscription limit, and hands freed slots out in turns', () => {
    const slots = new SendSlots(3, 2);
    const woken: string[] = [];
    slots.onRelease(() => woken.push('dispatcher'));
    slots.onRelease(() => woken.push('retries'));
    slots.take('a'); // a first attempt
    slots.take('a'); // a retry of the same subscription
    expect(slots.freeFor('a')).toBe(0);
    expect(slots.freeFor('b')).toBe(1);
    slots.take('b');
    expect([slots.free, slots.freeFor('b')]).toEqual([0, 0]);
    slots.release('a');
    slots.release('b');
    expect([slots.free, slots.inFlight('a'), slots.inFlight('b')]).toEqual([2, 1, 0]);
    expect(woken).toEqual(['dispatcher', 'retries', 'retries', 'dispatcher']);
  });
});

describe('send slots give publishing priority', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Slots of 64 (16 per subscription) on fake timers, yielding while `state.yielding`, counting wake-ups. */
  const yieldingSlots = (yielding: boolean) => {
    vi.useFakeTimers();
    const state = { yielding, woken: 0 };
    const slots = new SendSlots(64, 16, () => state.yielding);
    slots.onRelease(() => state.woken++);
    return { slots, state };
  };

  it('while they yield, start one request per tick, at most 4 in flight and 1 per subscription; the ones in flight finish; the full limits come back with the first tick after', () => {
    const { slots, state } = yieldingSlots(false);
    for (let i = 0; i < 10; i++) slots.take('a');
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([54, 6, 16]);
    state.yielding = true;
    expect(slots.yielding).toBe(true);
    // Ten in flight: nothing starts until they are below the yielding bound.
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([-6, -9, -6]);
    for (let i = 0; i < 9; i++) slots.release('a');
    // One slow endpoint ('a') holds one slot; another may start one request this tick, and no more.
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([1, 0, 1]);
    slots.take('b');
    expect([slots.free, slots.freeFor('b'), slots.freeFor('c')]).toEqual([0, 0, 0]);
    // Each tick while yielding wakes the waiting sides for the next start.
    state.woken = 0;
    vi.advanceTimersByTime(TICK_MS);
    expect(state.woken).toBe(1);
    expect([slots.free, slots.freeFor('b'), slots.freeFor('c')]).toEqual([1, 0, 1]);
    slots.take('c');
    slots.take('d'); // a side that did not ask counts all the same
    vi.advanceTimersByTime(TICK_MS);
    // Four in flight (a, b, c, d): the bound, whatever the tick allows.
    expect([slots.free, slots.freeFor('e')]).toEqual([0, 0]);
    state.yielding = false;
    state.woken = 0;
    vi.advanceTimersByTime(TICK_MS);
    expect(state.woken).toBe(1);
    vi.advanceTimersByTime(10 * TICK_MS); // no tick runs once yielding has ended
    expect(state.woken).toBe(1);
    expect(slots.yielding).toBe(false);
    expect([slots.free, slots.freeFor('a'), slots.freeFor('e')]).toEqual([60, 15, 16]);
  });

  it('wakes a side refused while yielding at the next tick, even when another side saw the yielding end first', () => {
    const { slots, state } = yieldingSlots(true);
    expect(slots.freeFor('a')).toBe(1);
    slots.take('a');
    expect(slots.freeFor('b')).toBe(0); // refused this tick; it waits to be woken
    state.yielding = false;
    expect(slots.free).toBe(63); // another side reads the limits: yielding is over
    vi.advanceTimersByTime(TICK_MS);
    expect(state.woken).toBe(1);
  });
});

describe('send slots: yielding has a limit', () => {
  it('yields at most 5 s at a stretch, then hands the full limits out for 250 ms, waking the waiting sides, and yields again', () => {
    let now = 1_000;
    let woken = 0;
    const slots = new SendSlots(64, 16, () => true, () => now);
    slots.onRelease(() => woken++);
    expect([slots.yielding, slots.free]).toEqual([true, 1]);
    now += 4_999;
    expect(slots.yielding).toBe(true);
    now += 1;
    // Relief: full limits; the sides refused meanwhile are woken by the next tick.
    expect([slots.yielding, slots.free]).toEqual([false, 64]);
    slots.tick();
    expect(woken).toBe(1);
    now += 249;
    expect(slots.yielding).toBe(false);
    now += 1;
    expect([slots.yielding, slots.free]).toEqual([true, 1]);
    now += 4_999;
    expect(slots.yielding).toBe(true);
  });

  it('starts the stretch again whenever publishing lets up', () => {
    let now = 0;
    let publishing = true;
    const slots = new SendSlots(64, 16, () => publishing, () => now);
    expect(slots.yielding).toBe(true);
    now += 4_000;
    publishing = false;
    expect(slots.yielding).toBe(false);
    publishing = true;
    now += 4_000;
    expect(slots.yielding).toBe(true); // a new stretch began 4 s ago, not 8
  });
});

describe('outcome buffer', () => {
  const settled = (n: number): SettledDelivery => ({ deliveryId: `s.${n}`, subscriptionId: 's', eventId: `e${n}`, status: 'delivered', attempts: 1 });
  const record = (seq: number) => ({ seq, event_id: `e${seq}`, event_type: 't', priority: 'normal' as const, attempt: { attempt: 1, at: '', status_code: 204, duration_ms: 1, error: null, response_body: null, webhook_id: `e${seq}` } });

  it('counts a subscription\'s outcomes as unwritten until their write ends, and forgets discarded ones', async () => {
    let release!: () => void;
    const batches: Array<Array<[string, Pending]>> = [];
    let writes = 0;
    const buffer = new OutcomeBuffer(async (batch) => {
      batches.push(batch);
      await new Promise<void>((r) => (release = r));
    }, () => writes++);
    buffer.writeNow();
    // The first outcome starts a write at once; the next ones wait for it.
    buffer.add('s', record(1), settled(1));
    buffer.add('s', record(2), settled(2));
    expect(buffer.unwrittenOf('s')).toBe(2);
    await expect.poll(() => batches.length).toBe(1);
    buffer.add('s', record(3), settled(3));
    expect(buffer.unwrittenOf('s')).toBe(3);
    release();
    await expect.poll(() => batches.length).toBe(2);
    expect([writes, buffer.unwrittenOf('s')]).toEqual([1, 2]);
    // Not handed to a write yet: discarded at once. The one being written counts until its write ends.
    buffer.add('s', record(4), settled(4));
    buffer.discard('s');
    expect([buffer.unwrittenOf('s'), buffer.has('s')]).toEqual([2, false]);
    release();
    await expect.poll(() => writes).toBe(2);
    expect(buffer.unwrittenOf('s')).toBe(0);
    expect(batches.map((b) => b[0]?.[1].logs.map((l) => l.seq))).toEqual([[1], [2, 3]]);
  });

  it('waits for company before a write, unless hurried by a subscription at its bound, and never while yielding', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const turns = async () => {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    };
    try {
      let yielding = false;
      const batches: number[][] = [];
      const buffer = new OutcomeBuffer(async (batch) => {
        batches.push(batch.flatMap(([, p]) => p.logs.map((l) => l.seq)));
      }, () => {}, () => yielding);
      buffer.add('s', record(1), settled(1));
      await turns();
      expect(batches).toEqual([]); // waiting for company on a timer that does not run here
      buffer.add('s', record(2), settled(2));
      buffer.hurry();
      await turns(); // (vi.waitFor would advance the fake timers itself)
      expect(batches).toEqual([[1, 2]]);
      // The next write waits again; hurrying while yielding changes nothing.
      yielding = true;
      buffer.add('s', record(3), settled(3));
      buffer.hurry();
      await turns();
      expect(batches).toEqual([[1, 2]]);
      await vi.advanceTimersByTimeAsync(100);
      await turns();
      expect(batches).toEqual([[1, 2], [3]]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the redo bound (what a kill -9 may send twice)', () => {
  it('lets a subscription start first attempts while in flight plus unwritten stay below twice its concurrency', () => {
    expect(redoRoom(0, 0, 16)).toBe(32);
    expect(redoRoom(16, 10, 16)).toBe(6);
    expect(atRedoBound(16, 15, 16)).toBe(false);
    expect(atRedoBound(16, 16, 16)).toBe(true);
    expect(atRedoBound(0, 32, 16)).toBe(true);
    expect(atRedoBound(0, 33, 16)).toBe(true);
  });
});

describe('outcome buffer at shutdown', () => {
  it('ends a wait for company already running when told to write now', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const written: number[] = [];
      const buffer = new OutcomeBuffer(async (batch) => {
        written.push(batch.length);
      }, () => {}, () => true); // yielding: the wait would be 100 ms
      buffer.add('s', { seq: 1, event_id: 'e1', event_type: 't', priority: 'normal', attempt: { attempt: 1, at: '', status_code: 204, duration_ms: 1, error: null, response_body: null, webhook_id: 'e1' } },
        { deliveryId: 's.1', subscriptionId: 's', eventId: 'e1', status: 'delivered', attempts: 1 });
      await new Promise((r) => setImmediate(r));
      expect(written).toEqual([]);
      buffer.writeNow();
      await buffer.drain();
      expect(written).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });
});
