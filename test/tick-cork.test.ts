import { describe, expect, it } from 'vitest';
import { TickCork } from '../src/stream/tick-cork.js';

describe('TickCork (a socket\'s frames of one tick leave in one write)', () => {
  it('corks once per tick, uncorks when the tick ends, then reports the flush', async () => {
    const calls: string[] = [];
    const cork = new TickCork({ cork: () => calls.push('cork'), uncork: () => calls.push('uncork') }, () => calls.push('flushed'));
    cork.hold();
    calls.push('write 1');
    cork.hold();
    calls.push('write 2');
    expect(calls).toEqual(['cork', 'write 1', 'write 2']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['cork', 'write 1', 'write 2', 'uncork', 'flushed']);
    cork.hold(); // a later tick corks again
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.slice(5)).toEqual(['cork', 'uncork', 'flushed']);
  });
});

describe('TickCork released early (a large burst)', () => {
  it('hands the burst over at once, and a new hold in the same tick gets its own end-of-tick release', async () => {
    const calls: string[] = [];
    const cork = new TickCork({ cork: () => calls.push('cork'), uncork: () => calls.push('uncork') }, () => calls.push('released'));
    cork.hold();
    cork.release();
    cork.release(); // nothing held: nothing to do
    cork.hold();
    expect(calls).toEqual(['cork', 'uncork', 'released', 'cork']);
    await new Promise((resolve) => setImmediate(resolve));
    // The second hold is released once, at the end of the tick.
    expect(calls).toEqual(['cork', 'uncork', 'released', 'cork', 'uncork', 'released']);
  });
});
