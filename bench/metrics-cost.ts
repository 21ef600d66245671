/**
 * What metrics cost a publisher: Herald `POST /events` with HERALD_METRICS=false against true (scraped every
 * second meanwhile, a busier scraper than any real one), alternated twice, beside the ceiling server.
 *
 * Env: BENCH_DURATION (seconds per measured run, default 10), BENCH_WARMUP (seconds, default 2).
 */
import { request } from 'undici';
import { measure, type LoadResult } from './publish.js';
import { fmt, fmtInt, printTable, publishBody, startCeiling, startHerald, stopChild, type Child, type HeraldChild } from './lib.js';

const CONNECTIONS = 64;
const SCRAPE_EVERY_MS = 1000;

async function heraldRun(metrics: boolean, body: string): Promise<LoadResult & { scrapes: number }> {
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
    const result = await measure(`herald, metrics ${metrics ? 'on' : 'off'}`, `${url}/events`, body, CONNECTIONS);
    scraping = false;
    await scraper;
    return { ...result, scrapes };
  } finally {
    await stopChild(herald);
  }
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
  const runs: Array<LoadResult & { scrapes: number }> = [];
  for (const metrics of [false, true, false, true]) runs.push(await heraldRun(metrics, body));
  const mean = (on: boolean) => {
    const picked = runs.filter((r) => r.label.endsWith(on ? 'on' : 'off'));
    return picked.reduce((sum, r) => sum + r.reqPerSec, 0) / picked.length;
  };
  const off = mean(false);
  const on = mean(true);
  console.log('\nResults (metrics-cost):');
  printTable(['run', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'scrapes'], [
    [ceiling.label, fmtInt(ceiling.reqPerSec), String(ceiling.p50), String(ceiling.p99), String(ceiling.non2xx), String(ceiling.errors), '-'],
    ...runs.map((r) => [r.label, fmtInt(r.reqPerSec), String(r.p50), String(r.p99), String(r.non2xx), String(r.errors), String(r.scrapes)]),
  ]);
  console.log(`\n  mean req/s: off ${fmtInt(off)}, on ${fmtInt(on)}; ratio on/off ${fmt(on / off, 3)}`);
  console.log(`  ratio herald/ceiling: off ${fmt(off / ceiling.reqPerSec, 3)}, on ${fmt(on / ceiling.reqPerSec, 3)}`);
  return { ratio: on / off };
}
