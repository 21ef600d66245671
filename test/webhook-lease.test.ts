import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';
import { LeaseKeeper } from '../src/webhooks/lease.js';
import { attemptLogRows } from '../src/store/attempt-log.js';

describe('subscription leases: a deactivated subscription still writing its last outcomes', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ HERALD_WEBHOOK_WORKER: 'false' }); // the only replica: this keeper
  });
  afterAll(async () => app.close());

  it('stays held until idle without taking an active one\'s share: the others keep theirs and new ones are claimed', async () => {
    const keeper = new LeaseKeeper('replica-lease-test', app.store.cursors, 30_000);
    const now = Date.now();
    const ids = (rows: Array<{ id: { id: unknown } }>) => rows.map((r) => String(r.id.id)).sort();
    // Maintenance is due when the set of active subscriptions changed, or every lease/3 (monotonic ms).
    let changes = await keeper.maintain(now, 0, ['lease-a', 'lease-b'], () => true);
    expect(ids(changes.gained)).toEqual(['lease-a', 'lease-b']);

    // b is disabled (a 410) while its last outcome is not written yet: it is kept, and a keeps its lease.
    const busy = new Set(['lease-b']);
    changes = await keeper.maintain(now, 1, ['lease-a'], (id) => !busy.has(id));
    expect(changes).toEqual({ gained: [], lost: [] });
    expect([keeper.holds('lease-a', now), keeper.holds('lease-b', now)]).toEqual([true, true]);

    // A new subscription is claimed although b is still held.
    changes = await keeper.maintain(now, 2, ['lease-a', 'lease-c'], (id) => !busy.has(id));
    expect([ids(changes.gained), changes.lost]).toEqual([['lease-c'], []]);

    // Once b's outcome is written, the next maintenance hands it back.
    busy.clear();
    changes = await keeper.maintain(now, 10_000, ['lease-a', 'lease-c'], (id) => !busy.has(id));
    expect(changes).toEqual({ gained: [], lost: ['lease-b'] });
    expect(['lease-a', 'lease-b', 'lease-c'].map((id) => keeper.holds(id, now))).toEqual([true, false, true]);
  });
});

describe('cursor advances: one transaction for a batch, written only where the lease is held', () => {
  it('moves the cursors and writes the attempt-log rows of the subscriptions it owns, and nothing of the others', async () => {
    const app = await testApp({ HERALD_WEBHOOK_WORKER: 'false' });
    try {
      const { cursors, attemptLog } = app.store;
      const now = Date.now();
      await cursors.ensure(['adv-mine', 'adv-theirs']);
      await cursors.claim('me', ['adv-mine'], now, now + 30_000);
      await cursors.claim('them', ['adv-theirs'], now, now + 30_000);
      const record = (seq: number) => ({
        seq, event_id: `e${seq}`, event_type: 't', priority: 'normal' as const,
        attempt: { attempt: 1, at: new Date(now).toISOString(), status_code: 204, duration_ms: 1, error: null, response_body: null, webhook_id: `e${seq}` },
      });
      const advance = (subscriptionId: string, seq: number) => ({ subscriptionId, seq, above: [seq + 2], logs: attemptLogRows(subscriptionId, [record(seq)], now), queue: [] });
      const written = await cursors.advance('me', [advance('adv-mine', 7), advance('adv-theirs', 9)]);
      expect([...written]).toEqual(['adv-mine']);
      expect(await cursors.get('adv-mine')).toMatchObject({ seq: 7, above: [9], owner: 'me' });
      expect(await cursors.get('adv-theirs')).toMatchObject({ seq: 0, above: [], owner: 'them' });
      expect((await attemptLog.find('adv-mine', 7))?.event_id).toBe('e7');
      expect(await attemptLog.find('adv-theirs', 9)).toBeUndefined();
      // Owning none of them writes nothing, and is no error.
      expect([...(await cursors.advance('nobody', [advance('adv-mine', 8)]))]).toEqual([]);
      expect(await cursors.get('adv-mine')).toMatchObject({ seq: 7 });
    } finally {
      await app.close();
    }
  });
});
