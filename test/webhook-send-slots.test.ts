import { describe, expect, it } from 'vitest';
import { SendSlots } from '../src/webhooks/send-slots.js';
import { OutcomeBuffer, type Pending } from '../src/webhooks/outcome-buffer.js';
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
  it('shrink to 4 in all and 1 per subscription while they yield, let the ones in flight finish, and wake the waiting sides when yielding ends', () => {
    let yielding = false;
    const slots = new SendSlots(64, 16, () => yielding);
    let woken = 0;
    slots.onRelease(() => woken++);
    for (let i = 0; i < 10; i++) slots.take('a');
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([54, 6, 16]);
    yielding = true;
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([-6, -9, -6]);
    for (let i = 0; i < 9; i++) slots.release('a');
    // One slow endpoint ('a') holds one slot; the others still get the rest.
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([3, 0, 1]);
    slots.take('b');
    expect([slots.free, slots.freeFor('b'), slots.freeFor('c')]).toEqual([2, 0, 1]);
    woken = 0;
    slots.recheck(); // still yielding: nobody is woken
    yielding = false;
    slots.recheck();
    expect(woken).toBe(1);
    slots.recheck(); // once per end of yielding
    expect(woken).toBe(1);
    expect([slots.free, slots.freeFor('a'), slots.freeFor('b')]).toEqual([62, 15, 15]);
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
    buffer.urgent = true;
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
});
