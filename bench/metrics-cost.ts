/**
 * What metrics cost a publisher: Herald `POST /events` with HERALD_METRICS=false against true (scraped every
 * second meanwhile, a busier scraper than any real one), alternated twice, beside the ceiling server. Besides
 * req/s it reports the Herald process's CPU time per request (from /proc), which a loaded machine disturbs far
 * less than throughput.
 *
 * Env: BENCH_DURATION (seconds per measured run, default 10), BENCH_WARMUP (seconds, default 2).
 */
import { request } from 'undici';
import { defineMetrics } from '../src/metrics/definitions.js';
import { measure, type LoadResult } from './publish.js';
import { fmt, fmtInt, printTable, processCpuSeconds, publishBody, startCeiling, startHerald, stopChild, type Child, type HeraldChild } from './lib.js';

const CONNECTIONS = 64;
const SCRAPE_EVERY_MS = 1000;

type Run = LoadResult & { scrapes: number; cpuMsPerRequest: number };

async function heraldRun(metrics: boolean, body: string): Promise<Run> {
  let herald: HeraldChild | undefined;
  try {
    herald = await startHerald({ HERALD_METRICS: String(metrics) });
    const url = herald.baseUrl;
    let scrapes = 0;
    let scraping = metrics;
    const scraper = (async () => {
      while (scraping) {
        const res = await request(`${url}/metrics`);
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}`);
        scrapes += 1;
        await new Promise((r) => setTimeout(r, SCRAPE_EVERY_MS));
      }
    })();
    const pid = herald.proc.pid as number;
    const cpuBefore = processCpuSeconds(pid);
    const result = await measure(`herald, metrics ${metrics ? 'on' : 'off'}`, `${url}/events`, body, CONNECTIONS);
    const cpu = processCpuSeconds(pid) - cpuBefore;
    scraping = false;
    await scraper;
    // measure() includes a warm-up run: count its requests too (at the measured rate) so CPU is per request.
    const requests = result.ok * (1 + Number(process.env.BENCH_WARMUP ?? 2) / result.durationS);
    return { ...result, scrapes, cpuMsPerRequest: (cpu * 1000) / requests };
  } finally {
    await stopChild(herald);
  }
}

/** Microseconds of what one publish adds with metrics on: a request observation, a count, a commit's two. */
function hotPathMicros(): number {
  const metrics = defineMetrics();
  const n = 200_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    metrics.httpDuration.observe({ method: 'POST', route: '/events', status_code: 201 }, 0.004);
    metrics.eventsPublished.inc(1);
    metrics.commitEvents.observe(8);
    metrics.commitDuration.observe(0.003);
  }
  return ((performance.now() - started) * 1000) / n;
}

export async function runMetricsCost(): Promise<{ ratio: number }> {
  const body = publishBody();
  console.log(`\n== metrics-cost: POST /events, c=${CONNECTIONS}, HERALD_METRICS off/on alternated, /metrics scraped every ${SCRAPE_EVERY_MS} ms when on`);
  let ceilingChild: Child | undefined;
  let ceiling: LoadResult;
  try {
    ceilingChild = await startCeiling();
    ceiling = await measure('ceiling (bare Fastify, no-op)', `${ceilingChild.baseUrl}/events`, body, CONNECTIONS);
  } finally {
    await stopChild(ceilingChild);
  }
  const runs: Run[] = [];
  for (const metrics of [false, true, false, true]) runs.push(await heraldRun(metrics, body));
  const mean = (on: boolean, pick: (r: Run) => number) => {
    const picked = runs.filter((r) => r.label.endsWith(on ? 'on' : 'off'));
    return picked.reduce((sum, r) => sum + pick(r), 0) / picked.length;
  };
  const off = mean(false, (r) => r.reqPerSec);
  const on = mean(true, (r) => r.reqPerSec);
  const cpuOff = mean(false, (r) => r.cpuMsPerRequest);
  const cpuOn = mean(true, (r) => r.cpuMsPerRequest);
  console.log('\nResults (metrics-cost):');
  printTable(['run', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'scrapes', 'CPU ms/request'], [
    [ceiling.label, fmtInt(ceiling.reqPerSec), String(ceiling.p50), String(ceiling.p99), String(ceiling.non2xx), String(ceiling.errors), '-', '-'],
    ...runs.map((r) => [r.label, fmtInt(r.reqPerSec), String(r.p50), String(r.p99), String(r.non2xx), String(r.errors), String(r.scrapes), fmt(r.cpuMsPerRequest, 3)]),
  ]);
  console.log(`\n  mean req/s: off ${fmtInt(off)}, on ${fmtInt(on)}; ratio on/off ${fmt(on / off, 3)}`);
  hotPathMicros(); // warm-up
  const micros = hotPathMicros();
  console.log(`  metrics work per publish (in-process loop): ${fmt(micros, 2)} µs = ${fmt((micros / 1000 / cpuOff) * 100, 1)}% of the CPU a request costs with metrics off`);
  console.log(`  Herald CPU per request: off ${fmt(cpuOff, 3)} ms, on ${fmt(cpuOn, 3)} ms; ratio on/off ${fmt(cpuOn / cpuOff, 3)}`);
  console.log(`  ratio herald/ceiling: off ${fmt(off / ceiling.reqPerSec, 3)}, on ${fmt(on / ceiling.reqPerSec, 3)}`);
  return { ratio: on / off };
}
