/**
 * Crash durability of the real server process on RocksDB.
 *
 * "Acknowledged" means the client received 201 (created) or 200 (already stored) for POST /events. Herald
 * sends that response only after the committer's RocksDB transaction holding the event has committed, and
 * the store runs with sync=every (the rocksdb:// default: one fsync per commit, docs/storage.md), so the
 * commit is fsynced first. An acked event must therefore survive a SIGKILL at any moment, exactly once.
 * Requests that were in flight when the process died got no answer; they may or may not be stored (the
 * client would retry them with the same event_id), but never twice.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanupServers,
  makeTempDir,
  readAllEvents,
  spawnServer,
  type StoredEvent,
} from './helpers/spawn-server.js';
import { CLIENTS, KILL_AFTER_ACKS, killUnderLoad } from './helpers/kill-under-load.js';

afterAll(cleanupServers);

const body = (eventId: string, client: number, n: number) =>
  JSON.stringify({
    event_id: eventId,
    event_type: 'task_progress',
    source: `durability-client-${client}`,
    payload: { client, n, note: 'crash durability test' },
  });

describe('durability: SIGKILL under concurrent publish load', () => {
  it('keeps every acknowledged event exactly once after SIGKILL and restart', async () => {
    const dataDir = join(makeTempDir('durability'), 'data');
    const server = await spawnServer({ dataDir });
    const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: 10_000 });

    /** event_id → seq from the acknowledging response. */
    const acked = new Map<string, number>();
    const t0 = performance.now();
    const { attempted, problems, inFlightAtKill, killed, errorsAfterKill, msToKill } = await killUnderLoad(server, agent, {
      request: (client, n) => {
        const eventId = randomUUID();
        return { key: eventId, body: body(eventId, client, n) };
      },
      acked: (eventId, _status, event) => {
        acked.set(eventId, event.seq);
        return event.event_id === eventId ? [] : [`ack for ${eventId} carried ${event.event_id}`];
      },
      ackCount: () => acked.size,
    });
    const exit = await server.exited;
    await agent.close();
    const loadMs = performance.now() - t0;

    expect(problems, server.output()).toEqual([]);
    expect(killed).toBe(true);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    // The kill landed mid-load: other clients had requests outstanding.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    // Seqs handed out in acks are unique.
    expect(new Set(acked.values()).size).toBe(acked.size);

    // Restart on the same directory. The dead process's LOCK is released by the kernel; retry if not yet.
    const restarted = await spawnServer({ dataDir, retryLocked: true });
    const events = await readAllEvents(restarted.url);

    const ids = events.map((e) => e.event_id);
    const unique = new Set(ids);
    const duplicates = ids.length - unique.size;
    const missing = [...acked.keys()].filter((id) => !unique.has(id));
    const unknown = ids.filter((id) => !attempted.has(id));
    const seqMismatch = events.filter((e) => acked.has(e.event_id) && acked.get(e.event_id) !== e.seq);
    let increasing = true;
    for (let i = 1; i < events.length; i++) {
      if ((events[i] as StoredEvent).seq <= (events[i - 1] as StoredEvent).seq) increasing = false;
    }

    console.log(
      `[durability] acks before kill: ${acked.size} (kill after ${KILL_AFTER_ACKS}, ${inFlightAtKill} requests in flight at kill, ` +
        `errors after kill: ${JSON.stringify(Object.fromEntries(errorsAfterKill))}), attempted: ${attempted.size}; ` +
        `after restart: ${events.length} events, ${unique.size} unique, duplicates: ${duplicates}, missing acked: ${missing.length}, ` +
        `stored but unacked: ${events.length - acked.size}; load ${Math.round(msToKill)} ms to kill, ${Math.round(loadMs)} ms total`,
    );

    expect(missing, 'acknowledged events missing after restart').toEqual([]);
    expect(duplicates, 'event_ids stored more than once').toBe(0);
    expect(unknown, 'stored events nobody published').toEqual([]);
    expect(increasing, 'seqs strictly increasing in asc history').toBe(true);
    expect(seqMismatch.map((e) => e.event_id), 'stored seq differs from the acknowledged seq').toEqual([]);
    // Only requests that were in flight at the kill can be stored without an ack.
    expect(events.length - acked.size).toBeLessThanOrEqual(CLIENTS);

    // GET /events/:id for a sample: the first, the last and a spread of acked ids.
    const ackedIds = [...acked.keys()];
    const sample = [ackedIds[0], ackedIds.at(-1), ...ackedIds.filter((_, i) => i % 97 === 0)] as string[];
    for (const id of sample) {
      const res = await fetch(`${restarted.url}/events/${id}`);
      expect(res.status, `GET /events/${id}`).toBe(200);
      const event = (await res.json()) as StoredEvent;
      expect(event.event_id).toBe(id);
      expect(event.seq).toBe(acked.get(id));
    }

    // Re-publishing acked events after the restart is idempotent: 200 with the stored event, nothing added.
    const again = [ackedIds[0], ackedIds[Math.floor(ackedIds.length / 2)], ackedIds.at(-1)] as string[];
    for (const id of again) {
      const res = await fetch(`${restarted.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(id, 99, 0),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const event = (JSON.parse(text) as { event: StoredEvent }).event;
      expect(event.event_id).toBe(id);
      expect(event.seq).toBe(acked.get(id));
    }
    const afterRepublish = await readAllEvents(restarted.url);
    expect(afterRepublish.length).toBe(events.length);

    // The seq counter survived the crash too: a new event goes after everything stored.
    const fresh = await fetch(`${restarted.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(randomUUID(), 99, 1),
    });
    expect(fresh.status).toBe(201);
    const maxSeq = (events.at(-1) as StoredEvent).seq;
    expect(((await fresh.json()) as { event: StoredEvent }).event.seq).toBeGreaterThan(maxSeq);

    const stopped = await restarted.stop('SIGTERM');
    expect(stopped, restarted.output()).toEqual({ code: 0, signal: null });
  }, 90_000);
});
