/**
 * History latency: load BENCH_HISTORY_EVENTS (default 1,000,000) events into a fresh RocksDB-backed Herald
 * through POST /events/batch, then time sequential GET /events queries against a bare Fastify no-op GET in
 * another process (the ceiling), interleaved round-robin so background work hits every query alike.
 * The load is timed against the ceiling's no-op batch route with the same bodies, and Herald's RSS is read
 * right after the load, once idle, and again with BENCH_HISTORY_IDLE_SOCKETS idle WebSocket clients connected, against the
 * WebSocket ceiling (bench/ceiling-ws-server.ts) holding as many.
 *
 * Env: BENCH_HISTORY_EVENTS (default 1000000), BENCH_HISTORY_REQUESTS (timed requests per query, default 500),
 *      BENCH_HISTORY_WARMUP (untimed requests per query first, default 50), BENCH_HISTORY_LOADERS (concurrent
 *      batch loaders, default 4), BENCH_HISTORY_SETTLE (seconds between load and queries, default 5, the RSS settle included),
 *      BENCH_HISTORY_IDLE_SOCKETS (default 1000), BENCH_HISTORY_RSS_SETTLE (seconds Herald is left idle before
 *      its settled RSS is read, default 30).
 */
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';
import {
  fmt, fmtInt, loadEvent, openIdleSockets, percentile, printTable, processCpuSeconds, rssMb, sleep, startCeiling, startHerald, stopChild,
  type Child, type HeraldChild,
} from './lib.js';

const EVENTS = Number(process.env.BENCH_HISTORY_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_HISTORY_REQUESTS ?? 500);
const WARMUP = Number(process.env.BENCH_HISTORY_WARMUP ?? 50);
const LOADERS = Number(process.env.BENCH_HISTORY_LOADERS ?? 4);
const SETTLE_S = Number(process.env.BENCH_HISTORY_SETTLE ?? 5);
const IDLE_SOCKETS = Number(process.env.BENCH_HISTORY_IDLE_SOCKETS ?? 1000);
const RSS_SETTLE_S = Number(process.env.BENCH_HISTORY_RSS_SETTLE ?? 30);
const BATCH = 1000;
const TARGET_P99_MS = 10;
const TARGET_RSS_MB = 300;

interface EventLike { seq: number; event_type: string }
interface Page { events: EventLike[]; next_cursor: string | null }

async function load(target: Child): Promise<{ seconds: number; eventsPerSec: number; bodyBytes: number }> {
  const pool = new Pool(target.baseUrl, { connections: LOADERS, pipelining: 1 });
  const batches = Math.ceil(EVENTS / BATCH);
  let next = 0;
  let done = 0;
  let bodyBytes = 0;
  let reported = 0;
  const t0 = performance.now();
  const loader = async () => {
    for (;;) {
      const b = next++;
      if (b >= batches) return;
      const size = Math.min(BATCH, EVENTS - b * BATCH);
      const body = JSON.stringify({ events: Array.from({ length: size }, (_, i) => loadEvent(b * BATCH + i)) });
      bodyBytes += Buffer.byteLength(body);
      const res = await pool.request({ path: '/events/batch', method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`batch ${b} answered ${res.statusCode}: ${text.slice(0, 500)}`);
      done += size;
      if (done - reported >= 100_000 || done === EVENTS) {
        reported = done;
        const s = (performance.now() - t0) / 1000;
        console.log(`  ${target.name} loaded ${fmtInt(done)} / ${fmtInt(EVENTS)} in ${fmt(s, 1)} s (${fmtInt(done / s)} events/s so far)`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: LOADERS }, loader));
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, eventsPerSec: EVENTS / seconds, bodyBytes };
}

interface Query {
  label: string;
  child: Child;
  path: string;
  pool: Pool;
  check: (body: string) => void;
  samples: number[];
}

function expectPage(label: string, check: (page: Page) => void): (body: string) => void {
  return (body) => {
    const page = JSON.parse(body) as Page;
    if (!Array.isArray(page.events)) throw new Error(`${label}: not a history page: ${body.slice(0, 300)}`);
    check(page);
  };
}

async function timeOnce(q: Query): Promise<number> {
  const t0 = performance.now();
  const res = await q.pool.request({ path: q.path, method: 'GET' });
  const body = await res.body.text();
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`${q.label}: GET ${q.path} answered ${res.statusCode}: ${body.slice(0, 300)}`);
  q.check(body);
  return ms;
}

export interface HistoryRow { label: string; path: string; p50: number; p99: number; mean: number; max: number; p50Ratio: number; p99Ratio: number }
export interface HistoryReport {
  events: number; loadSeconds: number; loadEventsPerSec: number; ceilingLoadEventsPerSec: number; rows: HistoryRow[];
  /** Right after the load, and once idle RSS_SETTLE_S seconds. */
  rssAfterLoadMb: number; rssSettledMb: number; rssIdleSocketsMb: number; ceilingRssIdleSocketsMb: number;
}

/**
 * Where Herald's RSS is: V8's heap and the memory V8 knows of outside it (Buffers) from its /metrics, the
 * rest is native (the engine: RocksDB memtables and block cache, its threads' malloc arenas).
 */
async function memoryBreakdown(herald: Child): Promise<string> {
  const text = await fetch(`${herald.baseUrl}/metrics`).then((r) => r.text());
  const mb = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1]) / 2 ** 20;
  const rss = rssMb(herald.proc.pid);
  const heap = mb('nodejs_heap_size_total_bytes');
  const external = mb('nodejs_external_memory_bytes');
  return `RSS ${fmt(rss, 0)} MB = V8 heap ${fmt(heap, 0)} MB (used ${fmt(mb('nodejs_heap_size_used_bytes'), 0)}) + ` +
    `external ${fmt(external, 0)} MB + native ${fmt(rss - heap - external, 0)} MB (MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 'unset'})`;
}

const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');

/**
 * RSS once `child` has been idle for RSS_SETTLE_S seconds. Right after a burst V8's heap still holds the
 * burst's garbage; V8 returns it by itself once allocation stops (its memory reducer, ~10–20 s here), so the
 * settled figure is the process's footprint and the figure right after the burst its transient peak.
 */
async function settledRss(child: Child): Promise<number> {
  await sleep(RSS_SETTLE_S * 1000);
  return rssMb(child.proc.pid);
}

/** RSS of `server` with IDLE_SOCKETS clients connected on `path` and left idle for RSS_SETTLE_S seconds. */
async function rssWithIdleSockets(server: Child, path: string): Promise<number> {
  const closeAll = await openIdleSockets(`ws://127.0.0.1:${server.port}${path}`, IDLE_SOCKETS);
  try {
    return await settledRss(server);
  } finally {
    await closeAll();
  }
}

export async function runHistory(): Promise<HistoryReport> {
  console.log(`\n== history: ${fmtInt(EVENTS)} events via POST /events/batch (${BATCH}/batch, ${LOADERS} loaders), then ${REQUESTS} timed sequential requests per query after ${WARMUP} warm-up`);
  let herald: HeraldChild | undefined;
  let ceiling: Child | undefined;
  const pools: Pool[] = [];
  try {
    herald = await startHerald();
    const loaded = await load(herald);
    // The newest stored seq (no writes happen from here on); seqs need not be exactly 1..N.
    const newest = await fetch(`${herald.baseUrl}/events?limit=1`).then((r) => r.json() as Promise<Page>);
    const newestSeq = newest.events[0]?.seq;
    if (newestSeq === undefined || newestSeq < EVENTS) throw new Error(`after loading ${EVENTS} events the newest seq is ${newestSeq}`);
    const du = execFileSync('du', ['-sh', herald.dataDir]).toString().split('\t')[0];
    const rssAfterLoadMb = rssMb(herald.proc.pid);
    console.log(`  herald memory right after the load: ${await memoryBreakdown(herald)}`);
    const rssSettledMb = await settledRss(herald);
    console.log(`  herald memory after ${RSS_SETTLE_S} s idle: ${await memoryBreakdown(herald)}`);
    console.log(`  load: ${fmtInt(EVENTS)} events in ${fmt(loaded.seconds, 1)} s = ${fmtInt(loaded.eventsPerSec)} events/s; ` +
      `~${fmtInt(loaded.bodyBytes / EVENTS)} B/event on the wire; data dir ${du}; herald RSS ${fmt(rssAfterLoadMb, 0)} MB`);
    if (SETTLE_S > RSS_SETTLE_S) await sleep((SETTLE_S - RSS_SETTLE_S) * 1000);

    ceiling = await startCeiling();
    // The load's ceiling: the same batches to a no-op route that parses and validates them.
    const ceilingLoaded = await load(ceiling);
    const after = Math.round(newestSeq / 4);
    const pool = (child: Child) => {
      const p = new Pool(child.baseUrl, { connections: 1, pipelining: 1 });
      pools.push(p);
      return p;
    };
    const heraldPool = pool(herald);
    const queries: Query[] = [
      {
        label: 'newest 100', child: herald, path: '/events?limit=100', pool: heraldPool, samples: [],
        check: expectPage('newest 100', (p) => {
          if (p.events.length !== 100 || p.events[0]?.seq !== newestSeq) throw new Error(`newest 100: got ${p.events.length} events, first seq ${p.events[0]?.seq}`);
        }),
      },
      {
        label: 'types=task_progress', child: herald, path: '/events?limit=100&types=task_progress', pool: heraldPool, samples: [],
        check: expectPage('types', (p) => {
          if (p.events.length !== Math.min(100, Math.floor(EVENTS / 10)) || p.events.some((e) => e.event_type !== 'task_progress')) {
            throw new Error(`types: got ${p.events.length} events, types ${[...new Set(p.events.map((e) => e.event_type))].join(',')}`);
          }
        }),
      },
      {
        label: `after=${after}`, child: herald, path: `/events?limit=100&after=${after}`, pool: heraldPool, samples: [],
        check: expectPage('after', (p) => {
          const seqs = p.events.map((e) => e.seq);
          if (seqs.length !== 100 || (seqs[0] ?? 0) <= after || seqs.some((q, i) => i > 0 && q <= (seqs[i - 1] ?? 0))) {
            throw new Error(`after: got ${seqs.length} events, seqs ${seqs.slice(0, 3).join(',')}...`);
          }
        }),
      },
      { label: 'ceiling: bare Fastify GET /noop', child: ceiling, path: '/noop', pool: pool(ceiling), samples: [], check: () => {} },
    ];

    for (let i = 0; i < WARMUP; i++) for (const q of queries) await timeOnce(q);
    const cpu0 = processCpuSeconds(herald.proc.pid);
    const wall0 = performance.now();
    for (let i = 0; i < REQUESTS; i++) for (const q of queries) q.samples.push(await timeOnce(q));
    const wallS = (performance.now() - wall0) / 1000;
    const heraldCpuS = processCpuSeconds(herald.proc.pid) - cpu0;

    const stats = queries.map((q) => {
      const sorted = [...q.samples].sort((a, b) => a - b);
      return {
        q,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
        max: sorted.at(-1) ?? Number.NaN,
      };
    });
    const base = stats.at(-1);
    if (!base) throw new Error('no ceiling stats');
    const rows: HistoryRow[] = stats.map((s) => ({
      label: s.q.label, path: s.q.path, p50: s.p50, p99: s.p99, mean: s.mean, max: s.max,
      p50Ratio: s.p50 / base.p50, p99Ratio: s.p99 / base.p99,
    }));

    console.log(`\nResults (history, ${fmtInt(EVENTS)} events, ${REQUESTS} sequential requests each, keep-alive):`);
    printTable(['query', 'p50 ms', 'p99 ms', 'mean ms', 'max ms', 'p50 / ceiling', 'p99 / ceiling', `p99 < ${TARGET_P99_MS} ms`], rows.map((r, i) => [
      `${r.label} (${r.path})`, fmt(r.p50), fmt(r.p99), fmt(r.mean), fmt(r.max),
      i === rows.length - 1 ? '1' : `${fmt(r.p50Ratio, 1)}x`, i === rows.length - 1 ? '1' : `${fmt(r.p99Ratio, 1)}x`,
      i === rows.length - 1 ? '-' : verdict(r.p99 < TARGET_P99_MS),
    ]));
    const heraldMs = rows.slice(0, -1).reduce((sum, r) => sum + r.mean, 0) * REQUESTS;
    console.log(`\n  herald used ${fmt(heraldCpuS, 1)} s CPU over ${fmt(wallS, 1)} s of timed queries ` +
      `(${fmt((100 * heraldCpuS) / wallS, 0)}% of one core; ${fmt((1000 * heraldCpuS) / (3 * REQUESTS), 2)} ms CPU per Herald request vs ` +
      `${fmt(heraldMs / (3 * REQUESTS), 2)} ms mean latency)`);
    console.log(`  load: ${fmt(loaded.seconds, 1)} s, ${fmtInt(loaded.eventsPerSec)} events/s; ceiling (no-op batch route) ` +
      `${fmt(ceilingLoaded.seconds, 1)} s, ${fmtInt(ceilingLoaded.eventsPerSec)} events/s; ratio herald/ceiling ${fmt(loaded.eventsPerSec / ceilingLoaded.eventsPerSec, 3)}`);

    await Promise.all(pools.splice(0).map((p) => p.close()));
    await stopChild(ceiling);
    ceiling = await startCeiling('bench/ceiling-ws-server.ts');
    const rssIdleSocketsMb = await rssWithIdleSockets(herald, '/events?types=task_progress');
    const ceilingRssIdleSocketsMb = await rssWithIdleSockets(ceiling, '/events?types=task_progress');
    console.log(`  herald RSS after the load ${fmt(rssSettledMb, 0)} MB once idle ${RSS_SETTLE_S} s (target < ${TARGET_RSS_MB} MB: ` +
      `${verdict(rssSettledMb < TARGET_RSS_MB)}; ${fmt(rssAfterLoadMb, 0)} MB right after it); ` +
      `with ${fmtInt(IDLE_SOCKETS)} idle WebSocket clients, ${RSS_SETTLE_S} s after they connected, ${fmt(rssIdleSocketsMb, 0)} MB (target < ${TARGET_RSS_MB} MB: ${verdict(rssIdleSocketsMb < TARGET_RSS_MB)}); ` +
      `WebSocket ceiling with as many ${fmt(ceilingRssIdleSocketsMb, 0)} MB; ratio ${fmt(rssIdleSocketsMb / ceilingRssIdleSocketsMb, 1)}`);
    return {
      events: EVENTS, loadSeconds: loaded.seconds, loadEventsPerSec: loaded.eventsPerSec, ceilingLoadEventsPerSec: ceilingLoaded.eventsPerSec,
      rows, rssAfterLoadMb, rssSettledMb, rssIdleSocketsMb, ceilingRssIdleSocketsMb,
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await stopChild(ceiling);
    await stopChild(herald);
  }
}
