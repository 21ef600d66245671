/**
 * Webhook delivery across a SIGKILL of the real server process (RocksDB data dir, short lease).
 *
 * A subscription is leased to the process that delivers it, and its log cursor only moves past events whose
 * outcome is written; a process killed mid-attempt never moves it, so after the restart the lease
 * (HERALD_WEBHOOK_LEASE=1s here) runs out, the new process takes the subscription over and attempts the
 * events above the cursor again with the same webhook-id (the event_id). The guarantee is
 * at-least-once: every acknowledged event reaches the receiver, and a receiver deduplicates on webhook-id.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/client/index.js';
import { allDeliveries, json, pollUntil, type DeliveryView } from './helpers/deliveries.js';
import { startReceiver, webhookId, type Receiver, type Received } from './helpers/receiver.js';
import { cleanupServers, makeTempDir, spawnServer, type ServerProcess } from './helpers/spawn-server.js';

const ENV = {
  HERALD_WEBHOOK_ALLOW_PRIVATE: 'true',
  HERALD_WEBHOOK_LEASE: '1s',
  HERALD_RETRY_SCHEDULE: '200ms,200ms,200ms',
};

const receivers: Receiver[] = [];
afterAll(async () => {
  await cleanupServers();
  await Promise.all(receivers.map((r) => r.close()));
});

interface WebhookBody {
  event: { event_id: string; event_type: string; source: string; payload: Record<string, unknown>; seq: number };
  subscription: { id: string; subscriber: string | null };
}

async function post<T>(url: string, body: unknown, expected: number): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = await json<T>(res);
  if (res.status !== expected) throw new Error(`POST ${url} answered ${res.status}: ${JSON.stringify(parsed)}`);
  return parsed;
}

async function subscribe(server: ServerProcess, receiver: Receiver, name: string): Promise<{ subscription_id: string; secret: string }> {
  return post(`${server.url}/subscriptions`, { subscriber_name: name, callback_url: receiver.url }, 201);
}

/** Checks one received request: parseable body for `subscriptionId`, event_id = webhook-id, a valid signature. */
async function checkRequest(r: Received, subscriptionId: string, secret: string): Promise<WebhookBody> {
  const body = JSON.parse(r.body) as WebhookBody;
  expect(body.subscription.id).toBe(subscriptionId);
  expect(body.event.event_id).toBe(webhookId(r));
  await expect(verifyWebhook(secret, r.headers, r.body, { now: r.at }), `signature of a request for ${webhookId(r)}`).resolves.toBeDefined();
  return body;
}

describe('webhooks: SIGKILL of the delivering process', () => {
  it('re-sends a delivery that was in flight at the kill, with the same webhook-id, and settles it delivered', async () => {
    const t0 = performance.now();
    // The first request never gets an answer (Herald is killed while it waits); every later one gets 204.
    const receiver = await startReceiver((n) => (n === 0 ? { status: 0, hang: true } : { status: 204 }));
    receivers.push(receiver);
    const dataDir = join(makeTempDir('webhooks-crash'), 'data');
    const first = await spawnServer({ dataDir, env: ENV });
    const sub = await subscribe(first, receiver, 'crash-single');

    const eventId = randomUUID();
    const published = await post<{ event: { event_id: string; seq: number } }>(
      `${first.url}/events`,
      { event_id: eventId, event_type: 'task_completed', source: 'crash-test', payload: { n: 1, note: 'in flight at kill' } },
      201,
    );
    expect(published.event.event_id).toBe(eventId);

    await receiver.until((r) => r.length >= 1, 10_000).catch((e) => { throw new Error(`${e}: ${first.output()}`); });
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing else was sent by the dead process: the one hanging request is all there is.
    expect(receiver.requests.length).toBe(1);
    const before = receiver.requests[0] as Received;
    expect(webhookId(before)).toBe(eventId);
    const firstBody = await checkRequest(before, sub.subscription_id, sub.secret);

    const second = await spawnServer({ dataDir, env: ENV, retryLocked: true });
    await receiver.until((r) => r.length >= 2);
    const after = receiver.requests[1] as Received;
    expect(after.at).toBeGreaterThanOrEqual(killedAt);
    expect(webhookId(after)).toBe(eventId);
    const secondBody = await checkRequest(after, sub.subscription_id, sub.secret);
    expect(secondBody).toEqual(firstBody);
    expect(secondBody.event).toMatchObject({
      event_id: eventId, event_type: 'task_completed', source: 'crash-test', payload: { n: 1, note: 'in flight at kill' },
      seq: published.event.seq,
    });

    // The restarted process records the outcome: the delivery ends delivered.
    let delivery: DeliveryView | undefined;
    await pollUntil(
      async () => {
        [delivery] = await allDeliveries(second.url, sub.subscription_id);
        return delivery?.status === 'delivered';
      },
      () => JSON.stringify(delivery),
    );
    const res = await fetch(`${second.url}/deliveries/${delivery?.delivery_id}`);
    expect(res.status).toBe(200);
    const detail = await json<DeliveryView>(res);
    expect(detail).toMatchObject({ event_id: eventId, subscription_id: sub.subscription_id, status: 'delivered', last_status_code: 204 });
    const log = detail.attempts_log ?? [];
    expect(log.length).toBeGreaterThanOrEqual(1);
    expect(log.every((a) => a.webhook_id === eventId)).toBe(true);
    expect(log.at(-1)).toMatchObject({ status_code: 204, error: null, webhook_id: eventId });
    expect(detail.attempts).toBe(log.length);

    // A graceful stop lets anything still in flight finish: exactly the two requests, no third.
    expect(await second.stop('SIGTERM'), second.output()).toEqual({ code: 0, signal: null });
    expect(receiver.requests.map(webhookId)).toEqual([eventId, eventId]);
    console.log(
      `[webhooks-crash] single: redelivered ${after.at - killedAt} ms after the kill; attempts recorded: ${log.length}; ` +
        `${Math.round(performance.now() - t0)} ms`,
    );
  }, 60_000);

  it('delivers every acknowledged event at least once after a SIGKILL under delivery load', async () => {
    const t0 = performance.now();
    const TOTAL = 300;
    const BATCH = 100;
    const KILL_AT = 50;
    const receiver = await startReceiver();
    receivers.push(receiver);
    const dataDir = join(makeTempDir('webhooks-crash-load'), 'data');
    const first = await spawnServer({ dataDir, env: ENV });
    const sub = await subscribe(first, receiver, 'crash-load');

    let published = false;
    let killed = false;
    let receivedAtKill = -1;
    // Kill from inside the receiver, the moment the KILL_AT-th request arrives (and every publish is acked),
    // so the process dies with requests in flight and outcomes not yet written.
    const maybeKill = () => {
      if (killed || !published || receiver.requests.length < KILL_AT) return;
      killed = true;
      receivedAtKill = receiver.requests.length;
      first.child.kill('SIGKILL');
    };
    receiver.respond = () => {
      // Runs before the request is recorded: count it in.
      queueMicrotask(maybeKill);
      return { status: 204 };
    };

    const ids = Array.from({ length: TOTAL }, () => randomUUID());
    const acked = new Set<string>();
    await Promise.all(
      Array.from({ length: TOTAL / BATCH }, async (_, b) => {
        const events = ids.slice(b * BATCH, (b + 1) * BATCH).map((event_id, i) => ({
          event_id, event_type: 'task_progress', source: 'crash-load', payload: { batch: b, i },
        }));
        const res = await post<{ events: Array<{ event_id: string }> }>(`${first.url}/events/batch`, { events }, 201);
        for (const e of res.events) acked.add(e.event_id);
      }),
    );
    published = true;
    maybeKill();
    await receiver.until((r) => r.length >= KILL_AT);
    maybeKill();
    expect(killed).toBe(true);
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(acked.size).toBe(TOTAL);
    // Requests that arrive before the restart begins were sent by the killed process.
    const restartBegan = Date.now();
    const beforeKill = receiver.requests.filter((r) => r.at < restartBegan);
    const uniqueBeforeKill = new Set(beforeKill.map(webhookId)).size;
    // The kill landed while deliveries were in progress.
    expect(receivedAtKill).toBeGreaterThanOrEqual(KILL_AT);
    expect(uniqueBeforeKill).toBeLessThan(TOTAL);

    const second = await spawnServer({ dataDir, env: ENV, retryLocked: true });
    const restartedAt = Date.now();
    const missing = () => [...acked].filter((id) => !receiver.requests.some((r) => webhookId(r) === id));
    const seen = new Set<string>();
    let scanned = 0;
    await receiver
      .until((requests) => {
        for (; scanned < requests.length; scanned++) seen.add(webhookId(requests[scanned] as Received));
        return seen.size >= acked.size && [...acked].every((id) => seen.has(id));
      }, 20_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}; ${missing().length} acknowledged events never received; server output:\n${second.output()}`);
      });
    const allReceivedAt = Date.now();

    // Every delivery of the subscription (one per stored event) ends delivered.
    let deliveries: DeliveryView[] = [];
    await pollUntil(
      async () => {
        deliveries = await allDeliveries(second.url, sub.subscription_id);
        return deliveries.length >= TOTAL && deliveries.every((d) => d.status === 'delivered');
      },
      () => {
        const byStatus: Record<string, number> = {};
        for (const d of deliveries) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
        return `${deliveries.length} deliveries: ${JSON.stringify(byStatus)}`;
      },
    );
    expect(deliveries.length).toBe(TOTAL);
    expect(new Set(deliveries.map((d) => d.event_id))).toEqual(acked);
    for (const d of deliveries) {
      expect(d.last_status_code).toBe(204);
      expect(d.attempts).toBeGreaterThanOrEqual(1);
    }

    // Let whatever the restarted process still has in flight finish, then count what arrived.
    expect(await second.stop('SIGTERM'), second.output()).toEqual({ code: 0, signal: null });
    const counts = new Map<string, number>();
    for (const r of receiver.requests) {
      await checkRequest(r, sub.subscription_id, sub.secret);
      counts.set(webhookId(r), (counts.get(webhookId(r)) ?? 0) + 1);
    }
    const unknown = [...counts.keys()].filter((id) => !acked.has(id));
    expect(unknown, 'webhook-ids nobody published').toEqual([]);
    expect(counts.size).toBe(TOTAL);
    const duplicates = receiver.requests.length - counts.size;
    const afterRestart = receiver.requests.filter((r) => r.at >= restartBegan);
    const afterRestartIds = new Set(afterRestart.map(webhookId));
    const sentByKilled = new Set(beforeKill.map(webhookId));
    // A second copy sent by the restarted process itself (not a re-send of something the dead one sent).
    const duplicatesWithinRestart = afterRestart.length - afterRestartIds.size;
    const resentAfterKill = afterRestart.filter((r) => sentByKilled.has(webhookId(r))).length;
    console.log(
      `[webhooks-crash] load: ${TOTAL} events acked, kill at request ${receivedAtKill} (${beforeKill.length} requests / ${uniqueBeforeKill} unique ` +
        `before the kill), ${afterRestart.length} after restart; duplicates: ${duplicates} (${resentAfterKill} re-sends of requests the ` +
        `killed process made, ${duplicatesWithinRestart} within the restarted process); all received ${allReceivedAt - restartedAt} ms ` +
        `after ready; total ${Math.round(performance.now() - t0)} ms`,
    );
    // The restarted process did the rest of the work.
    expect(afterRestart.length).toBeGreaterThanOrEqual(TOTAL - uniqueBeforeKill);
    // Duplicates come only from what the killed process had in flight: at most HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY
    // requests, plus as many answered whose outcome was still waiting for its batch to be written.
    expect(duplicatesWithinRestart).toBe(0);
    expect(resentAfterKill).toBeLessThanOrEqual(2 * 16);
  }, 60_000);
});
