/**
 * What every fuzz property shares: run counts and the replayable seed, a raw HTTP client (it sends bytes
 * no URL or fetch API lets through), and the error-shape and no-write invariants. The /health watchdog is
 * in liveness.ts.
 */
import { connect as netConnect } from 'node:net';
import fc from 'fast-check';
import { expect } from 'vitest';
import { makeTempDir, spawnServer } from '../helpers/spawn-server.js';
import { markFlight } from './liveness.js';

/** Runs per property: FUZZ_RUNS (CI default 100; `npm run fuzz` runs 5,000). */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** A fixed seed, so a failure replays exactly: FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz. */
export const SEED = Number(process.env.FUZZ_SEED ?? 92_026);
/**
 * Each property's time budget (FUZZ_TIME_LIMIT_MS, 0 = none), so the CI run stays bounded on a loaded
 * machine: past it the remaining runs pass without sending anything. A run in flight is never cut short —
 * a hang still fails by its own timeout — and a counterexample found by then is reported, shrunk as far as
 * the budget allowed.
 */
const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 2000);
const SHRINK_BUDGET_MS = 4 * TIME_LIMIT_MS;
/** The vitest timeout of one property: generous for the budgeted run, a day for an unbounded one. */
export const PROPERTY_TIMEOUT_MS = TIME_LIMIT_MS > 0 ? 120_000 : 24 * 3_600_000;

/**
 * fc.assert over `arbitrary` with the suite's runs, seed and time budget. `shrink: false` reports the first
 * counterexample as found — for a failure that leaves the server unusable, where every shrink would fail too.
 */
export async function fuzz<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, { shrink = true } = {}): Promise<void> {
  let deadline = Infinity;
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      if (deadline === Infinity && TIME_LIMIT_MS > 0) deadline = Date.now() + TIME_LIMIT_MS;
      if (Date.now() > deadline) return;
      sent++;
      try {
        await predicate(value);
      } catch (err) {
        // A failure gets its own budget for shrinking, so the counterexample reported is a small one.
        if (TIME_LIMIT_MS > 0 && deadline - Date.now() < SHRINK_BUDGET_MS) deadline = Date.now() + SHRINK_BUDGET_MS;
        throw err;
      }
    }),
    {
      numRuns: RUNS,
      seed: SEED,
      ...(process.env.FUZZ_PATH && { path: process.env.FUZZ_PATH }),
      ...(!shrink && { endOnFailure: true }),
    },
  );
  if (sent < RUNS && TIME_LIMIT_MS > 0) process.stdout.write(`[fuzz] ${expect.getState().currentTestName}: ${sent} of ${RUNS} cases within the ${TIME_LIMIT_MS} ms budget\n`);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method: string;
  /** Sent verbatim: malformed escapes and over-long segments reach the server as written. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** A hang becomes a failure after this long (the server does not answer at all). */
  timeoutMs?: number;
}

function decodeChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break;
    out.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** One HTTP/1.1 request over a fresh TCP connection, written byte for byte. */
export function rawRequest(port: number, request: RawRequest): Promise<RawResponse> {
  const { method, path, headers = {}, body, timeoutMs = 10_000 } = request;
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  if (body) head.push(`Content-Length: ${body.length}`);
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${method} ${path.slice(0, 200)} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const lines = all.subarray(0, split < 0 ? all.length : split).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const parsed: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = split < 0 ? Buffer.alloc(0) : all.subarray(split + 4);
      const raw = parsed['transfer-encoding'] === 'chunked' ? decodeChunked(rest) : rest;
      resolve({ status, headers: parsed, body: raw.toString('utf8') });
    });
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]));
  });
}

export const jsonHeaders = { 'Content-Type': 'application/json' };

/** `{"error":{"code","message","details"?}}` and nothing else — the one documented error shape. */
export function isErrorBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') return false;
  const error = (body as { error: unknown }).error;
  if (error === null || typeof error !== 'object' || Array.isArray(error)) return false;
  const e = error as Record<string, unknown>;
  return typeof e.code === 'string' && typeof e.message === 'string' && Object.keys(e).every((k) => ['code', 'message', 'details'].includes(k));
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The answer invariant: a 2xx, or a 4xx in the documented error shape; never a 5xx, never a bare answer. */
export function expectAnswer(res: RawResponse, what: string, hasBody = true): void {
  const summary = `${what} → ${res.status} ${res.body.slice(0, 300)}`;
  expect(res.status, summary).toBeGreaterThanOrEqual(200);
  expect(res.status, summary).toBeLessThan(500);
  if (res.status >= 400 && hasBody) {
    expect(res.headers['content-type'] ?? '', summary).toMatch(/^application\/json/);
    expect(isErrorBody(parseJson(res.body)), `not the documented error shape: ${summary}`).toBe(true);
  }
}

export interface FuzzServer {
  port: number;
  /** Rows that exist for the whole run, for routes that take an id. */
  fixture: { event: string; subscription: string; patchable: string; delivery: string };
  /** The server's log so far (errors only), to show what a 5xx was. */
  output: () => string;
}

async function api(port: number, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await rawRequest(port, { method, path, headers: jsonHeaders, ...(body !== undefined && { body: Buffer.from(JSON.stringify(body)) }) });
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/**
 * The real server in its own process: a per-request timeout can then catch a hung event loop, /health is
 * timed from outside it, and a crash is seen as one. No worker, so the fixture's deliveries stay put.
 */
export async function startFuzzServer(env: Record<string, string> = {}): Promise<FuzzServer> {
  const server = await spawnServer({
    dataDir: makeTempDir('fuzz'),
    env: { LOG_LEVEL: 'error', HERALD_WEBHOOK_WORKER: 'false', HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_CLEANUP_INTERVAL: '0', ...env },
  });
  const { port } = server;
  const sub = await api(port, 'POST', '/subscriptions', { subscriber_name: 'fuzz-fixture', event_types: ['fixture.only'], callback_url: 'http://127.0.0.1:9/hook' });
  const subscription = sub.subscription_id as string;
  const patchable = (await api(port, 'POST', '/subscriptions', { subscriber_name: 'fuzz-patchable', event_types: ['fixture.patchable'] })).subscription_id as string;
  const event = ((await api(port, 'POST', '/events', { event_type: 'fixture.only', source: 'fuzz' })).event as { event_id: string }).event_id;
  const page = await api(port, 'GET', `/subscriptions/${subscription}/deliveries`);
  const delivery = (page.deliveries as Array<{ delivery_id: string }>)[0]?.delivery_id ?? '';
  return { port, fixture: { event, subscription, patchable, delivery }, output: server.output };
}

export interface Rows {
  lastSeq: unknown;
  subscriptions: string;
  deliveries: string;
}

/** What a refused request must leave as it was: the event counter, every subscription, the fixture's deliveries. */
export async function rows(server: FuzzServer): Promise<Rows> {
  const health = await api(server.port, 'GET', '/health');
  const subscriptions = await api(server.port, 'GET', '/subscriptions');
  const deliveries = await api(server.port, 'GET', `/subscriptions/${server.fixture.subscription}/deliveries?limit=1000`);
  return { lastSeq: health.last_seq, subscriptions: JSON.stringify(subscriptions), deliveries: JSON.stringify(deliveries) };
}

/** The rows as a refused request left them: still current, since only an accepted one writes. */
let known: { server: FuzzServer; rows: Rows } | undefined;

/** Sends `request` and checks the answer invariant and, for a refusal, that no row changed. */
export async function fuzzRequest(server: FuzzServer, request: RawRequest): Promise<RawResponse> {
  const before = known?.server === server ? known.rows : await rows(server);
  known = undefined;
  const what = `${request.method} ${request.path.slice(0, 300)}`;
  const logged = server.output().length;
  const from = Date.now();
  const res = await rawRequest(server.port, { timeoutMs: 5000, ...request }).finally(() =>
    markFlight(from, `${what.slice(0, 150)} ${request.body?.subarray(0, 100).toString('utf8') ?? ''}`));
  if (res.status >= 400) {
    const after = await rows(server);
    expect(after, `a refused ${what} (${res.status}) wrote rows`).toEqual(before);
    known = { server, rows: after };
  }
  expectAnswer(res, res.status >= 500 ? `${what} (server log: ${server.output().slice(logged, logged + 800)})` : what, request.method !== 'HEAD');
  return res;
}
