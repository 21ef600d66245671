/**
 * The webhooks bench's receiver, run as its own process (started by bench/webhooks.ts through lib's
 * startCeiling, so it does not share an event loop with Herald or with the ceiling's POST loop): bare
 * node:http answering 204 to every POST, recording for each one receive time − the `bench_t` number in the
 * body (the publisher's clock, performance.timeOrigin + performance.now(), stamped just before the publish).
 * Bodies are not JSON-parsed: `bench_t` is read from the raw bytes, so the receiver spends as little CPU as
 * it can per request (the machine has 2 cores).
 *
 * PORT serves hooks on any path and the control routes:
 *   GET  /ready
 *   POST /control/listen?n=N        opens N more listeners on free ports (one origin each) → {ports}
 *   POST /control/reset             zeroes the counters                                     → {}
 *   GET  /control/report?expected=N&quietMs=Q&timeoutMs=T
 *        answers once N hooks were received since the reset, or none came for Q ms, or after T ms → Report
 * A hook's key is its path on PORT, or its port on an extra listener; per-key counts show every subscription
 * (or every origin) got its share. A `webhook-id` a key receives twice counts as a duplicate. A body with a
 * `"bench_k":K` (the ordering scenario's key) must arrive in `"seq"` order per (hook key, K): each arrival
 * with a lower seq than one before it on its line counts as an order violation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceiverReport {
  received: number;
  duplicates: number;
  unstamped: number;
  negativeLatencies: number;
  /** Arrivals of a `bench_k` line with a lower seq than an earlier arrival on it, or with no readable seq. */
  orderViolations: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Epoch ms (performance.timeOrigin + performance.now()) of the first and last hook since the reset. */
  firstRecv: number;
  lastRecv: number;
  keys: number;
  perKeyMin: number;
  perKeyMax: number;
  meanBodyBytes: number;
  /** One hook as received (the first, then every 1000th), to post look-alikes from the ceiling. */
  sample: { body: string; headers: Record<string, string> } | null;
  /** CPU seconds this process used since the reset. */
  cpuSeconds: number;
  waitedMs: number;
  reason: 'expected' | 'quiet' | 'timeout';
}

const now = () => performance.timeOrigin + performance.now();
const STAMP = Buffer.from('"bench_t":');
const LINE = Buffer.from('"bench_k":');
const SEQ = Buffer.from('"seq":');

let latencies: number[] = [];
let ids = new Set<string>();
let perKey = new Map<string, number>();
let duplicates = 0;
let unstamped = 0;
let negative = 0;
let orderViolations = 0;
let lastSeqOfLine = new Map<string, number>();
let firstRecv = Number.NaN;
let lastRecv = Number.NaN;
let bodyBytes = 0;
let sample: ReceiverReport['sample'] = null;
let cpuAtReset = process.cpuUsage();
const waiters = new Set<() => void>();

function reset(): void {
  latencies = [];
  ids = new Set();
  perKey = new Map();
  duplicates = unstamped = negative = bodyBytes = orderViolations = 0;
  lastSeqOfLine = new Map();
  firstRecv = lastRecv = Number.NaN;
  sample = null;
  cpuAtReset = process.cpuUsage();
}

/** The number after `label` in the raw body (NaN when it has none). */
function numberAfter(body: Buffer, label: Buffer): number {
  const at = body.indexOf(label);
  if (at < 0) return Number.NaN;
  let end = at + label.length;
  while (end < body.length && /[0-9.eE+-]/.test(String.fromCharCode(body[end] as number))) end++;
  return Number(body.toString('latin1', at + label.length, end));
}

function checkOrder(key: string, body: Buffer): void {
  const line = numberAfter(body, LINE);
  if (Number.isNaN(line)) return;
  const id = `${key} ${line}`;
  const seq = numberAfter(body, SEQ);
  // A body whose seq cannot be read counts as a violation: the check must not pass by not looking.
  if (Number.isNaN(seq) || seq < (lastSeqOfLine.get(id) ?? -1)) orderViolations++;
  else lastSeqOfLine.set(id, seq);
}

function hook(key: string, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const received = now();
    res.writeHead(204).end();
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    // Herald's webhook-id is the event_id, the same for every subscription: a duplicate is one key's repeat.
    const id = `${key} ${String(req.headers['webhook-id'])}`;
    if (ids.has(id)) duplicates++;
    else ids.add(id);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    bodyBytes += body.length;
    if (Number.isNaN(firstRecv)) firstRecv = received;
    lastRecv = received;
    checkOrder(key, body);
    const sent = numberAfter(body, STAMP);
    if (Number.isNaN(sent)) unstamped++;
    else {
      let latency = received - sent;
      if (latency < 0) {
        negative++;
        latency = 0;
      }
      latencies.push(latency);
    }
    if (latencies.length + unstamped === 1 || (latencies.length + unstamped) % 1000 === 0) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (name.startsWith('webhook-') || name === 'user-agent') headers[name] = String(value);
      sample = { body: body.toString('utf8'), headers };
    }
    for (const check of [...waiters]) check();
  });
}

const count = () => latencies.length + unstamped;

function report(waitedMs: number, reason: ReceiverReport['reason']): ReceiverReport {
  const sorted = Float64Array.from(latencies).sort();
  const pick = (p: number) => (sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number));
  const counts = [...perKey.values()];
  const cpu = process.cpuUsage(cpuAtReset);
  return {
    received: count(), duplicates, unstamped, negativeLatencies: negative, orderViolations,
    p50: pick(50), p90: pick(90), p99: pick(99), max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    firstRecv, lastRecv, keys: counts.length, perKeyMin: counts.length > 0 ? Math.min(...counts) : 0, perKeyMax: counts.length > 0 ? Math.max(...counts) : 0,
    meanBodyBytes: count() > 0 ? bodyBytes / count() : Number.NaN, sample,
    cpuSeconds: (cpu.user + cpu.system) / 1e6, waitedMs, reason,
  };
}

/** Waits for `expected` hooks, `quietMs` without one, or `timeoutMs`. */
function awaitReport(expected: number, quietMs: number, timeoutMs: number): Promise<ReceiverReport> {
  const started = now();
  return new Promise((resolve) => {
    let quietTimer: NodeJS.Timeout | undefined;
    const finish = (reason: ReceiverReport['reason']) => {
      waiters.delete(check);
      clearTimeout(quietTimer);
      clearTimeout(deadline);
      resolve(report(now() - started, reason));
    };
    const armQuiet = () => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => finish('quiet'), quietMs);
    };
    const check = () => {
      if (count() >= expected) finish('expected');
      else armQuiet();
    };
    const deadline = setTimeout(() => finish('timeout'), timeoutMs);
    waiters.add(check);
    check();
  });
}

const servers: Server[] = [];

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number): Promise<number> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function control(url: URL, res: ServerResponse): Promise<void> {
  const param = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  switch (url.pathname) {
    case '/ready':
      return json(res, 200, { ready: true });
    case '/control/reset':
      reset();
      return json(res, 200, {});
    case '/control/listen': {
      const ports: number[] = [];
      for (let i = 0; i < param('n', 1); i++) {
        const key = { port: '' };
        const port = await listen((req, r) => hook(key.port, req, r), 0);
        key.port = `:${port}`;
        ports.push(port);
      }
      return json(res, 200, { ports });
    }
    case '/control/report':
      return json(res, 200, await awaitReport(param('expected', 1), param('quietMs', 10_000), param('timeoutMs', 600_000)));
    default:
      return json(res, 404, { error: `no control route ${url.pathname}` });
  }
}

await listen((req, res) => {
  const url = new URL(req.url ?? '/', 'http://receiver');
  if (req.method === 'POST' && !url.pathname.startsWith('/control/')) return hook(url.pathname, req, res);
  req.resume();
  req.on('end', () => void control(url, res).catch((err: unknown) => json(res, 500, { error: String(err) })));
}, Number(process.env.PORT ?? 0));

const stop = () => {
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
