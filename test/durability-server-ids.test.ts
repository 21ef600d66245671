/**
 * Crash durability of events whose ids the server generates (UUIDv7s that carry their seq, so no key row is
 * written for them: docs/storage.md, "Event ids and `GET /events/:event_id`"). Like test/durability.test.ts, but each acknowledged event
 * must also survive under the id and seq the acknowledgement named, and GET /events/:event_id must find it.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanupServers,
  makeTempDir,
  publishRaw as publish,
  readAllEvents,
  spawnServer,
  type StoredEvent,
} from './helpers/spawn-server.js';
import { CLIENTS, KILL_AFTER_ACKS, killUnderLoad } from './helpers/kill-under-load.js';
import { seqOfEventId } from '../src/store/event-ids.js';

afterAll(cleanupServers);

/** An event with no event_id: the server generates it. `token` tells requests apart. */
const serverIdBody = (token: string, client: number, n: number) =>
  JSON.stringify({
    event_type: 'task_progress',
    source: `durability-client-${client}`,
    payload: { client, n, token, note: 'crash durability test, server-generated ids' },
  });

/** The token serverIdBody put in a stored event's payload. */
const tokenOf = (event: StoredEvent): string => (event.payload as { token: string }).token;

describe('durability: SIGKILL under concurrent publish load, server-generated ids', () => {
  it('keeps every acknowledged event with a server-generated id exactly once, under the id and seq it was acknowledged with', async () => {
    const dataDir = join(makeTempDir('durability-server-ids'), 'data');
    const server = await spawnServer({ dataDir });
    const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: 10_000 });

    /** Server-generated event_id → the seq and token of the acknowledging response. */
    const acked = new Map<string, { seq: number; token: string }>();
    const { attempted, problems, inFlightAtKill, killed } = await killUnderLoad(server, agent, {
      // The key is a token in the payload: the event_id is unknown until the ack.
      request: (client, n) => {
        const token = randomUUID();
        return { key: token, body: serverIdBody(token, client, n) };
      },
      acked: (token, status, event) => {
        const wrong: string[] = [];
        if (status !== 201) wrong.push(`token ${token} answered ${status}, not 201`);
        if (tokenOf(event) !== token) wrong.push(`ack for token ${token} carried ${tokenOf(event)}`);
        if (acked.has(event.event_id)) wrong.push(`event_id ${event.event_id} acknowledged twice`);
        // The generated id carries the seq it was acknowledged with.
        if (seqOfEventId(event.event_id) !== event.seq) wrong.push(`ack ${event.event_id} (seq ${event.seq}) decodes to seq ${seqOfEventId(event.event_id)}`);
        acked.set(event.event_id, { seq: event.seq, token });
        return wrong;
      },
      ackCount: () => acked.size,
    });
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
