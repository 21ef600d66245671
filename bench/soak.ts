/**
 * Soak: one Herald process (fresh RocksDB dir) under a steady publish rate for a long time, its RSS sampled
 * from /proc every few seconds, then left idle to see whether the memory comes back.
 *
 * The load is what a small production sees: BENCH_SOAK_RATE single-event POST /events per second (a batch of
 * rate/20 requests every 50 ms), one WebSocket client receiving every event, and one webhook subscription
 * delivered to a local receiver (bench/webhook-receiver.ts, its own process). The bench counts what the
 * client received against what was published, and reads Herald's log (LOG_LEVEL=warn) for live-feed repairs
 * and for lines at error level.
 *
 * Env: BENCH_SOAK_DURATION (600 s of load), BENCH_SOAK_RATE (200 events/s), BENCH_SOAK_SAMPLE (5 s between
 *      RSS samples), BENCH_SOAK_IDLE (60 s idle after the load), BENCH_SOAK_ENV (extra Herald env,
 *      `NAME=value,NAME=value`, e.g. `SURREAL_ROCKSDB_WRITE_BUFFER_SIZE=134217728` to compare settings).
 *      `BENCH_SOAK_DURATION=60 npm run bench -- soak` is the short version.
 */
import WebSocket from 'ws';
import { Pool, request } from 'undici';
import { fmt, fmtInt, percentile, printTable, publishBody, rssMb, sleep, startCeiling, startHerald, stopChild, type Child, type HeraldChild } from './lib.js';

const knob = (name: string, fallback: number) => Number(process.env[`BENCH_SOAK_${name}`] ?? fallback);
const DURATION_S = knob('DURATION', 600);
const RATE = knob('RATE', 200);
const SAMPLE_S = knob('SAMPLE', 5);
const IDLE_S = knob('IDLE', 60);
const TICK_MS = 50;
const MAX_IN_FLIGHT = 256;

function extraEnv(): Record<string, string> {
  const text = process.env.BENCH_SOAK_ENV ?? '';
  return Object.fromEntries(text.split(',').filter(Boolean).map((pair) => pair.split('=', 2) as [string, string]));
}

/** Counts Herald's log lines as they come: live-feed repairs (and the events they read) and error-level lines. */
function watchLog(child: Child): { repairs: number; repairedEvents: number; errors: number; warns: number; sampleError: string } {
  const counts = { repairs: 0, repairedEvents: 0, errors: 0, warns: 0, sampleError: '' };
  let partial = '';
  child.proc.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { level?: number; msg?: string; events?: number };
      if (entry.msg?.startsWith('live feed missed commits')) {
        counts.repairs += 1;
        counts.repairedEvents += entry.events ?? 0;
      }
      if ((entry.level ?? 0) >= 50) {
        counts.errors += 1;
        if (!counts.sampleError) counts.sampleError = line.slice(0, 400);
      } else if ((entry.level ?? 0) >= 40) counts.warns += 1;
    }
  });
  return counts;
}

async function json(url: string, method: 'GET' | 'POST', body?: unknown): Promise<unknown> {
  const res = await request(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export interface SoakReport {
  samples: Array<{ t: number; rssMb: number; published: number }>;
  startMb: number;
  peakMb: number;
  endOfLoadMb: number;
  afterIdleMb: number;
  published: number;
  received: number;
  delivered: number;
  failed: number;
  repairs: number;
  repairedEvents: number;
  errorLines: number;
}

export async function runSoak(): Promise<SoakReport> {
  const env = extraEnv();
  console.log(`\n## soak: ${RATE} events/s for ${DURATION_S} s, then ${IDLE_S} s idle; RSS every ${SAMPLE_S} s${Object.keys(env).length ? `; extra env ${JSON.stringify(env)}` : ''}`);
  let herald: HeraldChild | undefined;
  let receiver: Child | undefined;
  let ws: WebSocket | undefined;
  try {
    receiver = await startCeiling('bench/webhook-receiver.ts');
    herald = await startHerald({ LOG_LEVEL: 'warn', HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', ...env });
    const log = watchLog(herald);
    const pid = herald.proc.pid as number;
    await json(`${herald.baseUrl}/subscriptions`, 'POST', { subscriber_name: 'soak', event_types: [], callback_url: `${receiver.baseUrl}/hook` });
    await json(`${receiver.baseUrl}/control/reset`, 'POST');

    let received = 0;
    ws = new WebSocket(`${herald.baseUrl.replace('http', 'ws')}/events?after=0`);
    ws.on('message', (data) => {
      if (!String(data).includes('"type":')) received += 1;
    });
    await new Promise<void>((resolve, reject) => {
      ws?.once('open', () => resolve());
      ws?.once('error', reject);
    });

    const pool = new Pool(herald.baseUrl, { connections: 32 });
    // Untargeted, so the WebSocket client and the subscription get every event.
    const { target: _target, ...untargeted } = JSON.parse(publishBody()) as Record<string, unknown>;
    const body = JSON.stringify(untargeted);
    let published = 0;
    let failures = 0;
    let inFlight = 0;
    const publishOne = async () => {
      inFlight += 1;
      try {
        const res = await pool.request({ path: '/events', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.dump();
        if (res.statusCode === 201 || res.statusCode === 200) published += 1;
        else failures += 1;
      } catch {
        failures += 1;
      } finally {
        inFlight -= 1;
      }
    };

    const samples: SoakReport['samples'] = [];
    const started = Date.now();
    const sample = () => samples.push({ t: Math.round((Date.now() - started) / 1000), rssMb: rssMb(pid), published });
    sample();
    let sent = 0;
    let nextSample = started + SAMPLE_S * 1000;
    let nextPrint = started + 60_000;
    while (Date.now() - started < DURATION_S * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE);
      for (; sent < due && inFlight < MAX_IN_FLIGHT; sent += 1) void publishOne();
      if (Date.now() >= nextSample) {
        sample();
        nextSample += SAMPLE_S * 1000;
      }
      if (Date.now() >= nextPrint) {
        const last = samples.at(-1);
        console.log(`  ${last?.t} s: RSS ${fmt(last?.rssMb ?? Number.NaN, 0)} MB, published ${fmtInt(published)}, received ${fmtInt(received)}, in flight ${inFlight}, repairs ${log.repairs}`);
        nextPrint += 60_000;
      }
      await sleep(TICK_MS);
    }
    while (inFlight > 0) await sleep(TICK_MS);
    sample();
    const endOfLoadMb = samples.at(-1)?.rssMb ?? Number.NaN;
    const idleUntil = Date.now() + IDLE_S * 1000;
    while (Date.now() < idleUntil) {
      await sleep(Math.min(SAMPLE_S * 1000, idleUntil - Date.now()));
      sample();
    }
    const hooks = (await json(`${receiver.baseUrl}/control/report?expected=${published}&quietMs=5000&timeoutMs=60000`, 'GET')) as { received: number };
    await pool.close();

    const rss = samples.map((s) => s.rssMb);
    const report: SoakReport = {
      samples,
      startMb: rss[0] ?? Number.NaN,
      peakMb: Math.max(...rss),
      endOfLoadMb,
      afterIdleMb: rss.at(-1) ?? Number.NaN,
      published,
      received,
      delivered: hooks.received,
      failed: failures,
      repairs: log.repairs,
      repairedEvents: log.repairedEvents,
      errorLines: log.errors,
    };
    const minute = samples.filter((s, i) => i === 0 || s.t % 60 < SAMPLE_S || i === samples.length - 1);
    printTable(['t (s)', 'RSS (MB)', 'published'], minute.map((s) => [String(s.t), fmt(s.rssMb, 0), fmtInt(s.published)]));
    const sorted = [...rss].sort((a, b) => a - b);
    console.log(`  RSS: start ${fmt(report.startMb, 0)} MB, peak ${fmt(report.peakMb, 0)} MB, p50 ${fmt(percentile(sorted, 50), 0)} MB, end of load ${fmt(endOfLoadMb, 0)} MB, after ${IDLE_S} s idle ${fmt(report.afterIdleMb, 0)} MB`);
    console.log(`  events: published ${fmtInt(published)} (failed ${failures}), WebSocket received ${fmtInt(received)}, webhooks delivered ${fmtInt(hooks.received)}`);
    console.log(`  log: ${log.repairs} live-feed repairs (${fmtInt(log.repairedEvents)} events read from the store), ${log.warns} warn lines, ${log.errors} error lines${log.sampleError ? `; first: ${log.sampleError}` : ''}`);
    return report;
  } finally {
    ws?.terminate();
    await stopChild(herald);
    await stopChild(receiver);
  }
}
