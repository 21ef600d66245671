/**
 * What the rate limiter costs a publish: Herald `POST /events` with HERALD_RATE_LIMIT_PUBLISH on but never
 * tripping (1,000,000/s) against the same Herald with it off (its ceiling here), alternating off/on runs so
 * drift on a shared machine hits both alike.
 *
 * Env: BENCH_DURATION, BENCH_WARMUP (as for publish), BENCH_RATE_LIMIT_ROUNDS (off/on pairs, default 2).
 */
import { fmt, fmtInt, printTable, publishBody, startHerald, stopChild, type HeraldChild } from './lib.js';
import { expectStatus, measure, type LoadResult } from './publish.js';

const CONNECTIONS = 64;
const ROUNDS = Number(process.env.BENCH_RATE_LIMIT_ROUNDS ?? 2);
const NEVER_TRIPS = '1000000';

async function run(label: string, env: Record<string, string>): Promise<LoadResult> {
  let herald: HeraldChild | undefined;
  try {
    herald = await startHerald(env);
    await expectStatus(`${herald.baseUrl}/events`, publishBody(), 201);
    const result = await measure(label, `${herald.baseUrl}/events`, publishBody(), CONNECTIONS);
    if (result.non2xx > 0) throw new Error(`${label}: ${result.non2xx} non-2xx answers; the limit tripped`);
    return result;
  } finally {
    await stopChild(herald);
  }
}

export async function runRateLimit(): Promise<{ off: number; on: number; ratio: number }> {
  console.log(`\n== rate-limit: POST /events, c=${CONNECTIONS}, limit off vs ${NEVER_TRIPS}/s, ${ROUNDS} rounds`);
  const off: LoadResult[] = [];
  const on: LoadResult[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    off.push(await run(`limit off (round ${round})`, {}));
    on.push(await run(`limit on, not tripping (round ${round})`, { HERALD_RATE_LIMIT_PUBLISH: NEVER_TRIPS }));
  }
  const mean = (runs: LoadResult[]) => runs.reduce((sum, r) => sum + r.reqPerSec, 0) / runs.length;
  const ratio = mean(on) / mean(off);
  console.log('\nResults (rate-limit):');
  printTable(['run', 'req/s', 'p50 ms', 'p99 ms'], [...off, ...on].map((r) => [r.label, fmtInt(r.reqPerSec), String(r.p50), String(r.p99)]));
  console.log(`\n  mean off ${fmtInt(mean(off))} req/s, on ${fmtInt(mean(on))} req/s: ratio on/off ${fmt(ratio, 3)}`);
  return { off: mean(off), on: mean(on), ratio };
}
