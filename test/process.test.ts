/**
 * Process-level behaviour of the real server: a held data directory, boot-time config errors and graceful
 * shutdown under load. (No-API-keys + non-loopback is covered with inject elsewhere: it needs a real
 * non-loopback address.)
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
  startServerProcess,
  type ExitInfo,
  type ServerProcess,
} from './helpers/spawn-server.js';

afterAll(cleanupServers);

/** Waits for the process to exit, failing (not hanging) after timeoutMs. */
async function exitWithin(server: ServerProcess, timeoutMs: number): Promise<ExitInfo & { ms: number }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`process still running after ${timeoutMs} ms; output:\n${server.output()}`)),
      timeoutMs,
    );
  });
  try {
    const exit = await Promise.race([server.exited, timeout]);
    return { ...exit, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

const eventBody = (eventId: string, n: number) =>
  JSON.stringify({ event_id: eventId, event_type: 'task_started', source: 'process-test', payload: { n } });

type Outcome = { eventId: string; status: number } | { eventId: string; error: string };

async function post(agent: Agent, url: string, eventId: string, n: number): Promise<Outcome> {
  try {
    const res = await request(`${url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: eventBody(eventId, n),
      dispatcher: agent,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    await res.body.dump();
    return { eventId, status: res.statusCode };
  } catch (error) {
    return { eventId, error: errorCode(error) };
  }
}

const isAck = (o: Outcome): boolean => 'status' in o && (o.status === 200 || o.status === 201);

/** How a request can end once shutdown has begun: refused, or closed before an answer; never a hang or 5xx other than 503. */
const REFUSALS = new Set(['status 503', 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
const describeOutcome = (o: Outcome): string => ('status' in o ? `status ${o.status}` : o.error);

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[describeOutcome(o)] = (counts[describeOutcome(o)] ?? 0) + 1;
  return counts;
}

describe('locked data directory', () => {
  it('a second server on the same directory exits non-zero at once, naming the lock and the path', async () => {
    const dataDir = join(makeTempDir('locked'), 'data');
    const first = await spawnServer({ dataDir });

    // The open timeout is set far above the wait below, so an exit at all shows the lock error ended startup.
    const second = await startServerProcess({ dataDir, env: { HERALD_DB_CONNECT_TIMEOUT: '300s' } });
    const exit = await exitWithin(second, 50_000);
    const output = second.output();
    console.log(`[locked] second server exited with ${JSON.stringify({ code: exit.code, signal: exit.signal })} after ${Math.round(exit.ms)} ms: ${output.trim()}`);
    expect(exit.signal, output).toBeNull();
    expect(exit.code, output).not.toBe(0);
    expect(output).not.toMatch(/no answer within/);
    expect(output).toMatch(/locked/i);
    expect(output).toContain(dataDir);

    // The first server is unaffected.
    const res = await fetch(`${first.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: eventBody(randomUUID(), 0),
    });
    expect(res.status).toBe(201);

    const stopped = await first.stop('SIGTERM');
    expect(stopped, first.output()).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe('bad configuration', () => {
  it.each([
    ['PORT', 'abc'],
    ['HERALD_API_KEYS', 'nocolon'],
  ])('%s=%s: exits non-zero with a message naming the variable', async (name, value) => {
    const dataDir = join(makeTempDir('config'), 'data');
    const server = await startServerProcess({ dataDir, env: { [name]: value } });
    const exit = await exitWithin(server, 20_000);
    const output = server.output();
    console.log(`[config] ${name}=${value}: ${JSON.stringify({ code: exit.code, signal: exit.signal })} after ${Math.round(exit.ms)} ms: ${output.trim()}`);
    expect(exit.signal, output).toBeNull();
    expect(exit.code, output).not.toBe(0);
    expect(output).toContain(`${name}=`);
    expect(output).toMatch(/invalid configuration/);
  }, 30_000);
});

describe('graceful shutdown', () => {
  it('SIGTERM under load: exits 0, every 2xx survives, later requests are refused', async () => {
    const dataDir = join(makeTempDir('shutdown'), 'data');
    const server = await spawnServer({ dataDir });
    const agent = new Agent({ keepAliveTimeout: 10_000 });

    // 200 concurrent publishes; SIGTERM as soon as the first of them is answered.
    let signalled = false;
    let sigtermAt = 0;
    const sigterm = () => {
      if (signalled) return;
      signalled = true;
      sigtermAt = performance.now();
      server.child.kill('SIGTERM');
    };
    const load = await Promise.all(
      Array.from({ length: 200 }, async (_, n) => {
        const outcome = await post(agent, server.url, randomUUID(), n);
        sigterm();
        return outcome;
      }),
    );

    // Requests sent after SIGTERM until the process is gone: the first few over the load's keep-alive
    // connections (while closing, Fastify answers 503 + Connection: close on a connection it still holds), the
    // rest on fresh connections (refused once the listener is closed). Only a few go over old connections,
    // since each one closes a connection and would otherwise help the server drain. Paced, not synchronized:
    // the loop ends when the process exits.
    const probes: Outcome[] = [];
    const probeDeadline = Date.now() + 15_000;
    while (server.running() && Date.now() < probeDeadline) {
      if (probes.length < 6 && probes.length % 2 === 0) {
        probes.push(await post(agent, server.url, randomUUID(), 1000 + probes.length));
      } else {
        const fresh = new Agent({ pipelining: 0 });
        probes.push(await post(fresh, server.url, randomUUID(), 1000 + probes.length));
        await fresh.close();
      }
      await Promise.race([server.exited, new Promise((r) => setTimeout(r, 20))]);
    }

    const exit = await exitWithin(server, 15_000);
    const shutdownMs = performance.now() - sigtermAt;
    await agent.close();
    const afterExitAgent = new Agent();
    const afterExit = await post(afterExitAgent, server.url, randomUUID(), 9999);
    await afterExitAgent.close();

    const acked = [...load, ...probes].filter(isAck).map((o) => o.eventId);
    console.log(
      `[shutdown] load outcomes ${JSON.stringify(tally(load))}; probes after SIGTERM ${JSON.stringify(tally(probes))}; ` +
        `after exit ${describeOutcome(afterExit)}; exit ${JSON.stringify({ code: exit.code, signal: exit.signal })} ` +
        `${Math.round(shutdownMs)} ms after SIGTERM`,
    );

    // A clean exit, not the exit(1) of the HERALD_SHUTDOWN_TIMEOUT deadline. Soft, so that a failure here
    // still runs the durability checks below.
    expect.soft(exit, server.output()).toMatchObject({ code: 0, signal: null });
    expect(acked.length).toBeGreaterThan(0);
    // Every request either got an ack or was visibly refused (503, refused, or its connection closed before
    // the server read it — the client saw no answer and retries with the same event_id). Nothing hung.
    const unexpected = load.filter((o) => !isAck(o) && !REFUSALS.has(describeOutcome(o)));
    expect(unexpected, server.output()).toEqual([]);
    const badProbes = probes.filter((o) => !isAck(o) && !REFUSALS.has(describeOutcome(o)));
    expect(badProbes, server.output()).toEqual([]);
    expect(describeOutcome(afterExit)).toBe('ECONNREFUSED');

    // Every acknowledged publish is stored, once.
    const restarted = await spawnServer({ dataDir, retryLocked: true });
    const events = await readAllEvents(restarted.url);
    const ids = events.map((e) => e.event_id);
    const stored = new Set(ids);
    expect(ids.length - stored.size, 'duplicates').toBe(0);
    expect(acked.filter((id) => !stored.has(id)), 'acknowledged but missing').toEqual([]);
    const attempted = new Set([...load, ...probes].map((o) => o.eventId));
    expect(ids.filter((id) => !attempted.has(id)), 'stored but never sent').toEqual([]);
    console.log(`[shutdown] acked ${acked.length}, stored after restart ${events.length} (${events.length - acked.length} stored without an ack)`);

    const stopped = await restarted.stop('SIGTERM');
    expect(stopped, restarted.output()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
