/**
 * Disk use under retention: one Herald process (fresh RocksDB dir) with HERALD_RETENTION_MAX_EVENTS set takes a
 * steady single-event POST /events load for a long time while the bench samples the data directory's size.
 * Once the store holds the retained count, deletes should keep pace with inserts and the size stay flat.
 *
 * The reference (this bench's ceiling) is the size sampled when the retained count has been published and one
 * cleanup pass has run since: a store that holds exactly the retained events. The bench reports the size at
 * the end and at its largest against it, and the growth over the second half of the run from a least-squares
 * line through its samples: flat means that growth is under 10% of the reference.
 *
 * Env: BENCH_DISK_DURATION (seconds of load, default 600), BENCH_DISK_RATE (events/s, default 200),
 *      BENCH_DISK_RETAIN (HERALD_RETENTION_MAX_EVENTS, default 20000), BENCH_DISK_CLEANUP
 *      (HERALD_CLEANUP_INTERVAL, default 30s), BENCH_DISK_SAMPLE (seconds between samples, default 10).
 *      `BENCH_DISK_DURATION=120 BENCH_DISK_RETAIN=5000 npm run bench -- disk` is a short version.
 */
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';
import { parseDuration } from '../src/lib/duration.js';
import { fmt, fmtInt, printTable, publishBody, rssMb, sleep, startHerald, stopChild, type HeraldChild } from './lib.js';

const knob = (name: string, fallback: string) => process.env[`BENCH_DISK_${name}`] ?? fallback;
const DURATION_S = Number(knob('DURATION', '600'));
const RATE = Number(knob('RATE', '200'));
const RETAIN = Number(knob('RETAIN', '20000'));
const CLEANUP = knob('CLEANUP', '30s');
const SAMPLE_S = Number(knob('SAMPLE', '10'));
const TICK_MS = 100;
const MAX_IN_FLIGHT = 64;
const FLAT_GROWTH = 0.1;

const dirBytes = (dir: string) => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
const mb = (bytes: number) => bytes / 1024 / 1024;

interface Sample { t: number; published: number; bytes: number; rssMb: number }

/** Slope of the least-squares line through (t, bytes), in bytes per second. */
function slope(samples: Sample[]): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const mt = samples.reduce((s, p) => s + p.t, 0) / n;
  const mb_ = samples.reduce((s, p) => s + p.bytes, 0) / n;
  const cov = samples.reduce((s, p) => s + (p.t - mt) * (p.bytes - mb_), 0);
  const vt = samples.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return cov / vt;
}

export interface DiskReport { samples: Sample[]; referenceBytes: number; finalBytes: number; maxBytes: number; growth: number; flat: boolean; failed: number }

export async function runDisk(): Promise<DiskReport> {
  const cleanupMs = parseDuration(CLEANUP);
  console.log(`\n== disk: ${RATE} events/s of POST /events for ${DURATION_S} s, HERALD_RETENTION_MAX_EVENTS=${fmtInt(RETAIN)}, ` +
    `HERALD_CLEANUP_INTERVAL=${CLEANUP}, data directory sampled every ${SAMPLE_S} s`);
  // Steady state needs the retained count published and then a cleanup pass.
  const fullAtS = RETAIN / RATE + cleanupMs / 1000;
  if (fullAtS > DURATION_S / 2) console.log(`  warning: the store first holds ${fmtInt(RETAIN)} events after ~${fmt(fullAtS, 0)} s, late in a ${DURATION_S} s run`);
  let herald: HeraldChild | undefined;
  let closePool = async () => {};
  try {
    herald = await startHerald({ HERALD_RETENTION_MAX_EVENTS: String(RETAIN), HERALD_CLEANUP_INTERVAL: CLEANUP });
    const pool = new Pool(herald.baseUrl, { connections: 8, pipelining: 1 });
    closePool = () => pool.close();
    const body = publishBody();
    const samples: Sample[] = [];
    let published = 0;
    let failed = 0;
    let inFlight = 0;
    const t0 = performance.now();
    const elapsedS = () => (performance.now() - t0) / 1000;
    const sample = () => {
      const s = { t: elapsedS(), published, bytes: dirBytes((herald as HeraldChild).dataDir), rssMb: rssMb(herald?.proc.pid) };
      samples.push(s);
      console.log(`  ${fmt(s.t, 0).padStart(5)} s: ${fmtInt(published)} published, data dir ${fmt(mb(s.bytes), 1)} MB, RSS ${fmt(s.rssMb, 0)} MB`);
    };
    sample();
    // Sampling runs on its own timer, so a slow server delays publishes, never the samples.
    const sampler = setInterval(sample, SAMPLE_S * 1000);
    let sent = 0;
    try {
      while (elapsedS() < DURATION_S) {
        // On schedule, but never more than MAX_IN_FLIGHT outstanding: an overloaded server gets a lower rate.
        for (const due = Math.floor(elapsedS() * RATE); sent < due && inFlight < MAX_IN_FLIGHT; sent++) {
          inFlight++;
          void pool.request({ path: '/events', method: 'POST', headers: { 'content-type': 'application/json' }, body })
            .then(async (res) => {
              await res.body.dump();
              if (res.statusCode === 201) published++;
              else failed++;
            }, () => failed++)
            .finally(() => inFlight--);
        }
        await sleep(TICK_MS);
      }
    } finally {
      clearInterval(sampler);
    }
    sample();

    // The reference: the first sample a cleanup interval after the retained count was reached.
    const filledAt = samples.find((x) => x.published >= RETAIN)?.t ?? Number.POSITIVE_INFINITY;
    const steady = samples.filter((x) => x.t >= filledAt + cleanupMs / 1000);
    const reference = steady[0];
    const last = samples.at(-1);
    if (!reference || !last) throw new Error(`no sample a cleanup interval after ${fmtInt(RETAIN)} events were published; run longer or retain fewer events`);
    const secondHalf = samples.filter((s) => s.t >= DURATION_S / 2);
    const growth = (slope(secondHalf) * (DURATION_S / 2)) / reference.bytes;
    const maxBytes = Math.max(...steady.map((s) => s.bytes));
    const flat = growth < FLAT_GROWTH;
    console.log('\nResults (disk):');
    printTable(['', 'data dir MB', '/ reference', 'published', 'RSS MB'], [
      [`reference (${fmt(reference.t, 0)} s)`, fmt(mb(reference.bytes), 1), '1', fmtInt(reference.published), fmt(reference.rssMb, 0)],
      ['largest after it', fmt(mb(maxBytes), 1), fmt(maxBytes / reference.bytes, 2), '', ''],
      [`end (${fmt(last.t, 0)} s)`, fmt(mb(last.bytes), 1), fmt(last.bytes / reference.bytes, 2), fmtInt(last.published), fmt(last.rssMb, 0)],
    ]);
    console.log(`\n  growth over the second half: ${fmt(growth * 100, 1)}% of the reference (flat = under ${FLAT_GROWTH * 100}%: ${flat ? 'FLAT' : 'NOT FLAT'}); ` +
      `publish rate achieved ${fmt(published / DURATION_S, 1)}/s of ${RATE}, ${failed} failed, ${inFlight} still in flight`);
    return { samples, referenceBytes: reference.bytes, finalBytes: last.bytes, maxBytes, growth, flat, failed };
  } finally {
    await closePool();
    await stopChild(herald);
  }
}
