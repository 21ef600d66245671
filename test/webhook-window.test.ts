import { describe, expect, it } from 'vitest';
import { halfDrained, readAhead } from '../src/webhooks/window.js';

describe('how far a subscription window reads the log ahead', () => {
  it('holds 1024 unsettled events, 64 while deliveries yield to publishing', () => {
    expect([readAhead(false), readAhead(true)]).toEqual([1024, 64]);
  });

  it('reads again when a window drains to half of either bound, so a window left short by yielding refills without waiting for a poll', () => {
    expect([512, 32].map(halfDrained)).toEqual([true, true]);
    expect([0, 31, 33, 511, 513, 1024].map(halfDrained)).toEqual([false, false, false, false, false, false]);
  });
});
