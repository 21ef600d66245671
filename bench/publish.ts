/**
 * Publish throughput: Herald (durable RocksDB store, separate process) against the ceiling server (bare
 * Fastify, same validated body, no-op handler), then POST /events/batch with 100-event batches against the
 * ceiling's no-op batch route with the same body.
 *
 * Env: BENCH_DURATION (seconds per measured run, default 10), BENCH_WARMUP (seconds, default 2).
 */
import autocannon from 'autocannon';
import { request } from 'undici';
import {
  fmt, fmtInt, printTable, publishBody, startCeiling, startHerald, stopChild,
  type Child, type HeraldChild,
} from './lib.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const PUBLISH_CONNECTIONS = 64;
const BATCH_CONNECTIONS = 8;
const BATCH_SIZE = 100;
const BATCH_TARGET_EVENTS_PER_S = 30_000;

export interface LoadResult {
  label: string;
  connections: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

export async function cannon(label: string, url: string, body: string, connections: number, duration: number): Promise<LoadResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
    timeout: 30,
  });
  const ok = result['2xx'];
  return {
    label,
    connections,
    // Completed 2xx responses over the wall time of the run (autocannon's requests.average counts per-second
    // buckets, which also includes non-2xx).
    reqPerSec: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
  };
}

export async function measure(label: string, url: string, body: string, connections: number): Promise<LoadResult> {
  if (WARMUP > 0) await cannon(`${label} (warm-up)`, url, body, connections, WARMUP);
  const r = await cannon(label, url, body, connections, DURATION);
  console.log(`  ${label}: ${fmtInt(r.reqPerSec)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms (2xx ${r.ok}, non-2xx ${r.non2xx}, errors ${r.errors})`);
  return r;
}

export async function expectStatus(url: string, body: string, status: number): Promise<unknown> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.body.text();
  if (res.statusCode !== status) throw new Error(`POST ${url} answered ${res.statusCode}, expected ${status}: ${text}`);
  return JSON.parse(text) as unknown;
}

export interface PublishReport {
  ceiling: LoadResult;
  herald: LoadResult;
  ratio: number;
  batch: LoadResult & { eventsPerSec: number };
  ceilingBatch: LoadResult & { eventsPerSec: number };
  batchRatio: number;
}

export async function runPublish(): Promise<PublishReport> {
  const body = publishBody();
  const batchBody = JSON.stringify({ events: Array.from({ length: BATCH_SIZE }, () => JSON.parse(body) as unknown) });
  console.log(`\n== publish: POST /events, c=${PUBLISH_CONNECTIONS}, ${DURATION} s (after ${WARMUP} s warm-up); body ${Buffer.byteLength(body)} B`);

  // One server at a time, so a finished run's background work (RocksDB compaction) cannot slow the next.
  let ceilingChild: Child | undefined;
  let ceiling: LoadResult;
  let ceilingBatch: LoadResult;
  try {
    ceilingChild = await startCeiling();
    // The ceiling must really validate: an invalid body is a 400.
    await expectStatus(`${ceilingChild.baseUrl}/events`, JSON.stringify({ source: 'x' }), 400);
    await expectStatus(`${ceilingChild.baseUrl}/events`, body, 201);
    ceiling = await measure('ceiling (bare Fastify, no-op)', `${ceilingChild.baseUrl}/events`, body, PUBLISH_CONNECTIONS);
    await expectStatus(`${ceilingChild.baseUrl}/events/batch`, batchBody, 201);
    ceilingBatch = await measure('ceiling batch (bare Fastify, no-op)', `${ceilingChild.baseUrl}/events/batch`, batchBody, BATCH_CONNECTIONS);
  } finally {
    await stopChild(ceilingChild);
  }

  let herald: HeraldChild | undefined;
  let heraldResult: LoadResult;
  let batch: LoadResult;
  try {
    herald = await startHerald();
    const first = (await expectStatus(`${herald.baseUrl}/events`, body, 201)) as { event?: { seq?: number } };
    if (typeof first.event?.seq !== 'number') throw new Error(`unexpected publish answer: ${JSON.stringify(first)}`);
    heraldResult = await measure('herald (rocksdb)', `${herald.baseUrl}/events`, body, PUBLISH_CONNECTIONS);

    console.log(`\n== publish batch: POST /events/batch, ${BATCH_SIZE} events/request, c=${BATCH_CONNECTIONS}, ${DURATION} s; body ${fmtInt(Buffer.byteLength(batchBody))} B`);
    await expectStatus(`${herald.baseUrl}/events/batch`, batchBody, 201);
    batch = await measure('herald batch (rocksdb)', `${herald.baseUrl}/events/batch`, batchBody, BATCH_CONNECTIONS);
  } finally {
    await stopChild(herald);
  }

  const ratio = heraldResult.reqPerSec / ceiling.reqPerSec;
  const eventsPerSec = batch.reqPerSec * BATCH_SIZE;
  const ceilingEventsPerSec = ceilingBatch.reqPerSec * BATCH_SIZE;
  const batchRatio = eventsPerSec / ceilingEventsPerSec;
  console.log('\nResults (publish):');
  printTable(['run', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'], [
    [ceiling.label, String(ceiling.connections), fmtInt(ceiling.reqPerSec), String(ceiling.p50), String(ceiling.p99), String(ceiling.non2xx), String(ceiling.errors)],
    [heraldResult.label, String(heraldResult.connections), fmtInt(heraldResult.reqPerSec), String(heraldResult.p50), String(heraldResult.p99), String(heraldResult.non2xx), String(heraldResult.errors)],
    [`${ceilingBatch.label}, ${BATCH_SIZE}/req`, String(ceilingBatch.connections), fmtInt(ceilingBatch.reqPerSec), String(ceilingBatch.p50), String(ceilingBatch.p99), String(ceilingBatch.non2xx), String(ceilingBatch.errors)],
    [`${batch.label}, ${BATCH_SIZE}/req`, String(batch.connections), fmtInt(batch.reqPerSec), String(batch.p50), String(batch.p99), String(batch.non2xx), String(batch.errors)],
  ]);
  console.log(`\n  ratio herald/ceiling (req/s): ${fmt(ratio, 3)}  (target >= 0.5: ${ratio >= 0.5 ? 'MET' : 'NOT MET'})`);
  console.log(`  batch throughput: ${fmtInt(eventsPerSec)} events/s (target >= ${fmtInt(BATCH_TARGET_EVENTS_PER_S)}: ` +
    `${eventsPerSec >= BATCH_TARGET_EVENTS_PER_S ? 'MET' : 'NOT MET'}); ceiling ${fmtInt(ceilingEventsPerSec)} events/s; ratio herald/ceiling ${fmt(batchRatio, 3)}`);
  return {
    ceiling, herald: heraldResult, ratio, batch: { ...batch, eventsPerSec },
    ceilingBatch: { ...ceilingBatch, eventsPerSec: ceilingEventsPerSec }, batchRatio,
  };
}
