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
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanupServers,
  errorCode,
  makeTempDir,
  readAllEvents,
  spawnServer,
  type StoredEvent,
} from './helpers/spawn-server.js';
import { seqOfEventId } from '../src/store/event-ids.js';

const CLIENTS = 16;
/** SIGKILL once this many publishes were acknowledged (a count, not a timer). */
const KILL_AFTER_ACKS = 2000;

afterAll(cleanupServers);

const body = (eventId: string, client: number, n: number) =>
  JSON.stringify({
    event_id: eventId,
    event_type: 'task_progress',
    source: `durability-client-${client}`,
    payload: { client, n, note: 'crash durability test' },
  });

/** An event with no event_id: the server generates it (a UUIDv7 carrying the seq, src/store/event-ids.ts). `token` tells requests apart. */
const serverIdBody = (token: string, client: number, n: number) =>
  JSON.stringify({
    event_type: 'task_progress',
    source: `durability-client-${client}`,
    payload: { client, n, token, note: 'crash durability test, server-generated ids' },
  });

/** The token serverIdBody put in a stored event's payload. */
const tokenOf = (event: StoredEvent): string => (event.payload as { token: string }).token;

async function publish(agent: Agent, url: string, payload: string) {
  const res = await request(`${url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
    dispatcher: agent,
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

describe('durability: SIGKILL under concurrent publish load', () => {
  it('keeps every acknowledged event exactly once after SIGKILL and restart', async () => {
    const dataDir = join(makeTempDir('durability'), 'data');
    const server = await spawnServer({ dataDir });
    const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: 10_000 });

    const attempted = new Set<string>();
    /** event_id → seq from the acknowledging response. */
    const acked = new Map<string, number>();
    const problems: string[] = [];
    const errorsAfterKill = new Map<string, number>();
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;
    let killedAt = 0;
    const t0 = performance.now();

    const kill = () => {
      killed = true;
      killedAt = performance.now();
      inFlightAtKill = inFlight;
      server.child.kill('SIGKILL');
    };

    const client = async (clientNo: number) => {
      for (let n = 0; !killed && problems.length === 0; n++) {
        const eventId = randomUUID();
        attempted.add(eventId);
        let res: { status: number; text: string };
        inFlight++;
        try {
          res = await publish(agent, server.url, body(eventId, clientNo, n));
        } catch (error) {
          if (killed) {
            const code = errorCode(error);
            errorsAfterKill.set(code, (errorsAfterKill.get(code) ?? 0) + 1);
          } else {
            problems.push(`client ${clientNo}: request failed before the kill: ${String(error)}`);
          }
          return;
        } finally {
          inFlight--;
        }
        if (res.status === 201 || res.status === 200) {
          const event = (JSON.parse(res.text) as { event: StoredEvent }).event;
          if (event.event_id !== eventId) problems.push(`ack for ${eventId} carried ${event.event_id}`);
          acked.set(eventId, event.seq);
          if (!killed && acked.size >= KILL_AFTER_ACKS) kill();
        } else {
          problems.push(`client ${clientNo}: POST /events answered ${res.status}: ${res.text}`);
        }
      }
    };

    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
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
        `stored but unacked: ${events.length - acked.size}; load ${Math.round(killedAt - t0)} ms to kill, ${Math.round(loadMs)} ms total`,
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

  it('keeps every acknowledged event with a server-generated id exactly once, under the id and seq it was acknowledged with', async () => {
    const dataDir = join(makeTempDir('durability-server-ids'), 'data');
    const server = await spawnServer({ dataDir });
    const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: 10_000 });

    /** Every request's token (its event_id is unknown until the ack). */
    const attempted = new Set<string>();
    /** Server-generated event_id → the seq and token of the acknowledging response. */
    const acked = new Map<string, { seq: number; token: string }>();
    const problems: string[] = [];
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;

    const kill = () => {
      killed = true;
      inFlightAtKill = inFlight;
      server.child.kill('SIGKILL');
    };

    const client = async (clientNo: number) => {
      for (let n = 0; !killed && problems.length === 0; n++) {
        const token = randomUUID();
        attempted.add(token);
        let res: { status: number; text: string };
        inFlight++;
        try {
          res = await publish(agent, server.url, serverIdBody(token, clientNo, n));
        } catch (error) {
          if (!killed) problems.push(`client ${clientNo}: request failed before the kill: ${String(error)}`);
          return;
        } finally {
          inFlight--;
        }
        if (res.status !== 201) {
          problems.push(`client ${clientNo}: POST /events answered ${res.status}: ${res.text}`);
          continue;
        }
        const event = (JSON.parse(res.text) as { event: StoredEvent }).event;
        if (tokenOf(event) !== token) problems.push(`ack for token ${token} carried ${tokenOf(event)}`);
        if (acked.has(event.event_id)) problems.push(`event_id ${event.event_id} acknowledged twice`);
        // The generated id carries the seq it was acknowledged with.
        if (seqOfEventId(event.event_id) !== event.seq) problems.push(`ack ${event.event_id} (seq ${event.seq}) decodes to seq ${seqOfEventId(event.event_id)}`);
        acked.set(event.event_id, { seq: event.seq, token });
        if (!killed && acked.size >= KILL_AFTER_ACKS) kill();
      }
    };

    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    // The clients stop early on a problem: end the server anyway, so that the test reports it rather than waits.
    if (!killed) server.child.kill('SIGKILL');
    const exit = await server.exited;

    expect(problems, server.output()).toEqual([]);
    expect(killed).toBe(true);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    const ackedSeqs = [...acked.values()].map((a) => a.seq);
    expect(new Set(ackedSeqs).size).toBe(acked.size);

    const restarted = await spawnServer({ dataDir, retryLocked: true });
    const events = await readAllEvents(restarted.url);

    // History: each acknowledged seq once, holding the acknowledged id and request; no id or request twice.
    const bySeq = new Map<number, StoredEvent[]>();
    for (const e of events) bySeq.set(e.seq, [...(bySeq.get(e.seq) ?? []), e]);
    const seqProblems = [...acked].flatMap(([id, { seq, token }]) => {
      const atSeq = bySeq.get(seq) ?? [];
      if (atSeq.length !== 1) return [`seq ${seq} listed ${atSeq.length} times`];
      const [stored] = atSeq as [StoredEvent];
      return stored.event_id === id && tokenOf(stored) === token ? [] : [`seq ${seq}: acked ${id}, history has ${stored.event_id}`];
    });
    const ids = events.map((e) => e.event_id);
    const tokens = events.map(tokenOf);
    let increasing = true;
    for (let i = 1; i < events.length; i++) {
      if ((events[i] as StoredEvent).seq <= (events[i - 1] as StoredEvent).seq) increasing = false;
    }

    console.log(
      `[durability server ids] acks: ${acked.size} (${inFlightAtKill} requests in flight at kill), attempted: ${attempted.size}; ` +
        `after restart: ${events.length} events, ${new Set(ids).size} unique ids, stored but unacked: ${events.length - acked.size}`,
    );

    expect(seqProblems, 'acknowledged seqs in history').toEqual([]);
    expect(ids.length - new Set(ids).size, 'event_ids listed more than once').toBe(0);
    expect(tokens.length - new Set(tokens).size, 'requests stored more than once').toBe(0);
    expect(tokens.filter((t) => !attempted.has(t)), 'stored events nobody published').toEqual([]);
    expect(increasing, 'seqs strictly increasing in asc history').toBe(true);
    expect(events.length - acked.size).toBeLessThanOrEqual(CLIENTS);

    // GET /events/:event_id finds every acknowledged event by its generated id (no key row: through the seq it carries).
    const ackedIds = [...acked.keys()];
    const lookupProblems: string[] = [];
    await Promise.all(Array.from({ length: CLIENTS }, async (_, worker) => {
      for (let i = worker; i < ackedIds.length; i += CLIENTS) {
        const id = ackedIds[i] as string;
        const res = await request(`${restarted.url}/events/${id}`, { dispatcher: agent });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          lookupProblems.push(`GET /events/${id}: ${res.statusCode} ${text}`);
          continue;
        }
        const event = JSON.parse(text) as StoredEvent;
        const want = acked.get(id) as { seq: number; token: string };
        if (event.event_id !== id || event.seq !== want.seq || tokenOf(event) !== want.token) {
          lookupProblems.push(`GET /events/${id}: got ${event.event_id} at seq ${event.seq}, acked at seq ${want.seq}`);
        }
      }
    }));
    expect(lookupProblems.slice(0, 10), `${lookupProblems.length} lookups failed`).toEqual([]);

    // The counter survived: a new server id goes after everything stored, and is found by its id.
    const fresh = await publish(agent, restarted.url, serverIdBody(randomUUID(), 99, 0));
    expect(fresh.status, fresh.text).toBe(201);
    const freshEvent = (JSON.parse(fresh.text) as { event: StoredEvent }).event;
    expect(freshEvent.seq).toBeGreaterThan((events.at(-1) as StoredEvent).seq);
    expect(seqOfEventId(freshEvent.event_id)).toBe(freshEvent.seq);
    const freshRes = await fetch(`${restarted.url}/events/${freshEvent.event_id}`);
    expect(freshRes.status).toBe(200);
    expect(((await freshRes.json()) as StoredEvent).seq).toBe(freshEvent.seq);
    await agent.close();

    const stopped = await restarted.stop('SIGTERM');
    expect(stopped, restarted.output()).toEqual({ code: 0, signal: null });
  }, 90_000);
});
