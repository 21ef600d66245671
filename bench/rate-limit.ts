/**
 * What the rate limiter costs a publish: Herald `POST /events` with HERALD_RATE_LIMIT_PUBLISH on but never
 * tripping (1,000,000/s) against the same Herald with it off (its ceiling here), alternating off/on runs so
 * drift on a shared machine hits both alike. Besides req/s it reports the server's CPU time per request,
 * which other load on the machine disturbs less than throughput.
 *
 * Env: BENCH_DURATION, BENCH_WARMUP (as for publish), BENCH_RATE_LIMIT_ROUNDS (off/on pairs, default 3).
 */
import type { FastifyRequest } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { fmt, fmtInt, printTable, processCpuSeconds, publishBody, startHerald, stopChild, waitQuiet, type HeraldChild } from './lib.js';
import { cannon, expectStatus, type LoadResult } from './publish.js';

const CONNECTIONS = 64;
const ROUNDS = Number(process.env.BENCH_RATE_LIMIT_ROUNDS ?? 3);
const NEVER_TRIPS = '1000000';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);

interface Run extends LoadResult {
  cpuMsPerRequest: number;
}

async function run(label: string, env: Record<string, string>): Promise<Run> {
  let herald: HeraldChild | undefined;
  try {
    herald = await startHerald(env);
    await expectStatus(`${herald.baseUrl}/events`, publishBody(), 201);
    await waitQuiet(25, 30);
    if (WARMUP > 0) await cannon(`${label} (warm-up)`, `${herald.baseUrl}/events`, publishBody(), CONNECTIONS, WARMUP);
    const cpu0 = processCpuSeconds(herald.proc.pid);
    const result = await cannon(label, `${herald.baseUrl}/events`, publishBody(), CONNECTIONS, DURATION);
    const cpu = processCpuSeconds(herald.proc.pid) - cpu0;
    console.log(`  ${label}: ${fmtInt(result.reqPerSec)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${fmt((cpu * 1000) / result.ok, 3)} ms CPU/request (non-2xx ${result.non2xx}, errors ${result.errors})`);
    if (result.non2xx > 0) throw new Error(`${label}: ${result.non2xx} non-2xx answers; the limit tripped`);
    return { ...result, cpuMsPerRequest: (cpu * 1000) / result.ok };
  } finally {
    await stopChild(herald);
  }
}

/**
 * The limiter's own work per request, in this process: the check every publish goes through (key, counter,
 * verdict), timed by CPU over many calls on a Herald app whose limit never trips.
 */
async function checkCostMicros(calls = 200_000): Promise<number> {
  const app = await buildApp({
    config: loadConfig({ HERALD_DB_URL: 'mem://', LOG_LEVEL: 'silent', HERALD_CLEANUP_INTERVAL: '0', HERALD_RATE_LIMIT_PUBLISH: NEVER_TRIPS }),
    logger: false,
  });
  try {
    await app.ready();
    const check = app.createRateLimit();
    const request = { ip: '127.0.0.1', apiKeyId: undefined, routeOptions: { config: { scope: 'publish' } } } as unknown as FastifyRequest;
    for (let i = 0; i < calls / 10; i += 1) await check(request);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < calls; i += 1) await check(request);
    const cpu = process.cpuUsage(cpu0);
    return (cpu.user + cpu.system) / calls;
  } finally {
    await app.close();
  }
}

export async function runRateLimit(): Promise<{ ratio: number; cpuRatio: number; checkMicros: number }> {
  console.log(`\n== rate-limit: POST /events, c=${CONNECTIONS}, limit off vs ${NEVER_TRIPS}/s, ${ROUNDS} rounds`);
  const off: Run[] = [];
  const on: Run[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    off.push(await run(`limit off (round ${round})`, {}));
    on.push(await run(`limit on, not tripping (round ${round})`, { HERALD_RATE_LIMIT_PUBLISH: NEVER_TRIPS }));
  }
  const mean = (runs: Run[], pick: (r: Run) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  const ratio = mean(on, (r) => r.reqPerSec) / mean(off, (r) => r.reqPerSec);
  const cpuRatio = mean(on, (r) => r.cpuMsPerRequest) / mean(off, (r) => r.cpuMsPerRequest);
  console.log('\nResults (rate-limit):');
  printTable(['run', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms/req'],
    [...off, ...on].map((r) => [r.label, fmtInt(r.reqPerSec), String(r.p50), String(r.p99), fmt(r.cpuMsPerRequest, 3)]));
  console.log(`\n  mean req/s: off ${fmtInt(mean(off, (r) => r.reqPerSec))}, on ${fmtInt(mean(on, (r) => r.reqPerSec))}: ratio on/off ${fmt(ratio, 3)}`);
  console.log(`  mean server CPU per request: off ${fmt(mean(off, (r) => r.cpuMsPerRequest), 3)} ms, on ${fmt(mean(on, (r) => r.cpuMsPerRequest), 3)} ms: ratio on/off ${fmt(cpuRatio, 3)}`);
  const checkMicros = await checkCostMicros();
  console.log(`  the limiter's check alone: ${fmt(checkMicros, 2)} µs CPU per request (this process, ${fmtInt(200_000)} calls)`);
  return { ratio, cpuRatio, checkMicros };
}
