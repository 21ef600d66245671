import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';
import { LeaseKeeper } from '../src/webhooks/lease.js';

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
