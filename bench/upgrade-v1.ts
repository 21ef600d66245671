/**
 * How long the upgrade of a Herald 0.1.0 data directory takes at start (src/store/upgrade-v1.ts), against its
 * ceiling: writing the same schema-2 rows, in the same windows of 1024 seqs, into a fresh database — the
 * upgrade's own reads of 0.1.0 rows and its deletes of them are what the ratio shows.
 *
 * The 0.1.0 data is the committed fixture (test/fixtures/data-0.1.0, made by the 0.1.0 code) grown by cloning
 * its rows (test/helpers/v1-data.ts) to BENCH_UPGRADE_EVENTS events (default 100000). Each step runs in its own
 * process on its own directory: the embedded engine holds a directory's LOCK until its process exits.
 *
 * Worker forms (spawned by the orchestrator): node --import tsx bench/upgrade-v1.ts prepare <dir> <copies>
 *                                             node --import tsx bench/upgrade-v1.ts run <v1 dir> <fresh dir>
 */
import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { Surreal } from 'surrealdb';
import { ROOT, fmt, fmtInt, printTable, tempDir, waitQuiet } from './lib.js';

const WINDOW = 1024;

interface Result {
  events: number;
  segments: number;
  upgradeSeconds: number;
  ceilingSeconds: number;
}

async function open(dir: string): Promise<Surreal> {
  const { openConnection } = await import('../src/store/connection.js');
  const { loadConfig } = await import('../src/config.js');
  return openConnection({ ...loadConfig({}).db, url: `rocksdb://${dir}`, connectTimeoutMs: 30_000 });
}

async function prepare(dir: string, copies: number): Promise<void> {
  const { FIXTURE_DIR, multiplyV1 } = await import('../test/helpers/v1-data.js');
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  const db = await open(dir);
  await multiplyV1(db, copies);
  await db.close();
  process.exit(0);
}

/** The ceiling: the upgrade's schema-2 rows written window by window into `fresh`, nothing read or deleted. */
async function writeCeiling(v1: Surreal, fresh: Surreal): Promise<{ events: number; segments: number; seconds: number }> {
  const { readV1Events } = await import('../test/helpers/v1-data.js');
  const { toSegmentRecords } = await import('../src/store/segment-records.js');
  const { planSegments } = await import('../src/store/upgrade-v1-plan.js');
  const events = await readV1Events(v1);
  const ids = new Set(events.map((e) => e.event_id));
  const windows = new Map<number, typeof events>();
  for (const e of events) {
    const w = Math.ceil(e.seq / WINDOW);
    windows.set(w, [...(windows.get(w) ?? []), e]);
  }
  let prevLast = 0;
  const transactions = [...windows.values()].map((held) => {
    const records = planSegments(held, prevLast).map((s) => ({ ...toSegmentRecords(s.items, ids, Date.now()), first: s.first }));
    prevLast = held.at(-1)?.seq ?? prevLast;
    return records;
  });
  const t0 = performance.now();
  for (const records of transactions) {
    const all = (key: 'segTypes' | 'types' | 'keys' | 'refs' | 'expiries'): unknown[] => records.flatMap((r): unknown[] => r[key]);
    await fresh
      .query('BEGIN; INSERT INTO segment $segments RETURN NONE; INSERT INTO seg_type $segTypes RETURN NONE; INSERT IGNORE INTO event_type $types RETURN NONE; INSERT INTO event_key $keys RETURN NONE; INSERT INTO event_ref $refs RETURN NONE; INSERT INTO event_expiry $expiries RETURN NONE; COMMIT;', {
        segments: records.map((r) => ({ ...r.segment, first: r.first })), segTypes: all('segTypes'), types: all('types'), keys: all('keys'), refs: all('refs'), expiries: all('expiries'),
      })
      .collect();
  }
  return { events: events.length, segments: transactions.flat().length, seconds: (performance.now() - t0) / 1000 };
}

async function run(v1Dir: string, freshDir: string): Promise<void> {
  const { migrate } = await import('../src/store/migrations.js');
  const { settleSchema } = await import('../src/store/schema-version.js');
  const v1 = await open(v1Dir);
  const fresh = await open(freshDir);
  await migrate(fresh);
  const ceiling = await writeCeiling(v1, fresh);
  await migrate(v1);
  const t0 = performance.now();
  await settleSchema(v1, pino({ level: 'info' }, pino.destination(2)) as FastifyBaseLogger);
  const result: Result = { events: ceiling.events, segments: ceiling.segments, upgradeSeconds: (performance.now() - t0) / 1000, ceilingSeconds: ceiling.seconds };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

function worker(args: string[]): Promise<string> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/upgrade-v1.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const kill = () => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL');
  process.once('exit', kill);
  return new Promise((resolve, reject) =>
    proc.once('exit', (code) => {
      process.removeListener('exit', kill);
      if (code === 0) resolve(out);
      else reject(new Error(`upgrade-v1 worker ${args[0]} exited ${code}:\n${out.slice(-4000)}`));
    }),
  );
}

export async function runUpgradeV1(): Promise<Result[]> {
  const wanted = Number(process.env.BENCH_UPGRADE_EVENTS ?? 100_000);
  const rounds = Number(process.env.BENCH_UPGRADE_ROUNDS ?? 1);
  const copies = Math.max(0, Math.ceil(wanted / 277) - 1);
  console.log(`\n== upgrade-v1: a 0.1.0 data directory of ~${fmtInt((copies + 1) * 277)} events upgraded to segments at start, ` +
    `against writing the same rows into a fresh database; ${rounds} round(s), fresh copy and process per round`);
  const base = tempDir('upgrade');
  const results: Result[] = [];
  try {
    const prepared = join(base, 'v1');
    await worker(['prepare', prepared, String(copies)]);
    for (let round = 1; round <= rounds; round++) {
      await waitQuiet(25, 120, '  ');
      const v1 = join(base, `round-${round}`);
      cpSync(prepared, v1, { recursive: true, filter: (p) => !p.endsWith('/LOCK') });
      const out = await worker(['run', v1, join(base, `fresh-${round}`)]);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`no result:\n${out.slice(-4000)}`);
      const r = JSON.parse(line.slice('RESULT '.length)) as Result;
      results.push(r);
      console.log(`  round ${round}: upgrade ${fmt(r.upgradeSeconds, 1)} s, ceiling ${fmt(r.ceilingSeconds, 1)} s`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  console.log('\nResults (upgrade-v1):');
  printTable(['round', 'events', 'segments', 'upgrade s', 'upgrade events/s', 'ceiling s', 'ceiling events/s', 'upgrade vs ceiling (time)'], results.map((r, i) => [
    String(i + 1), fmtInt(r.events), fmtInt(r.segments), fmt(r.upgradeSeconds, 1), fmtInt(r.events / r.upgradeSeconds),
    fmt(r.ceilingSeconds, 1), fmtInt(r.events / r.ceilingSeconds), fmt(r.upgradeSeconds / r.ceilingSeconds, 2),
  ]));
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.length >= 5) {
  const [mode, a, b] = process.argv.slice(2) as [string, string, string];
  if (mode === 'prepare') await prepare(a, Number(b));
  else await run(a, b);
}
