import { describe, expect, it } from 'vitest';
import { SettlementBuffer } from '../src/webhooks/settlement-buffer.js';
import type { Settlement } from '../src/store/delivery-repository.js';
import type { SettledDelivery } from '../src/webhooks/engine-deps.js';

const settlement = (n: number) => ({ status: 'delivered', attempts: 1, n }) as unknown as Settlement;
const info = (n: number): SettledDelivery => ({ deliveryId: `d${n}`, subscriptionId: 's', eventId: `e${n}`, status: 'delivered', attempts: 1 });

describe('the retry worker\'s outcome batches', () => {
  it('writes queued outcomes together and reports each one written', async () => {
    const batches: number[] = [];
    const written: string[] = [];
    const buffer = new SettlementBuffer({
      write: async (s) => void batches.push(s.length), written: (i) => written.push(i.deliveryId), failed: () => undefined,
      stopping: () => false, aborted: () => false,
    });
    for (let n = 0; n < 5; n++) buffer.add(settlement(n), info(n));
    await expect.poll(() => written.length).toBe(5);
    await buffer.drain();
    expect(batches).toEqual([5]);
    expect(written).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
  });

  it('gives up on a failing store once stopping past the abort, so shutdown ends (the leases return the deliveries)', async () => {
    let failures = 0;
    const buffer = new SettlementBuffer({
      write: async () => { throw new Error('store down'); }, written: () => { throw new Error('not written'); }, failed: () => void failures++,
      stopping: () => true, aborted: () => true,
    });
    buffer.add(settlement(1), info(1));
    await buffer.drain();
    expect(failures).toBe(1);
  });
});
