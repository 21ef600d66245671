/**
 * Storage-only comparison of commit layouts (docs/storage.md#alternatives-measured): one transaction in flight
 * on a fresh rocksdb temp dir, N ~250 B events per commit, for BENCH_LAYOUT_SECONDS (default 4) each.
 *   v1       counter check + a row per event with its 4 indexed keys + a commit_log row holding the documents
 *   floor    one INSERT of N plain rows keyed by seq, nothing else
 *   segment  Herald's commit: EventRepository.commitSegments (one segment row + one row per type)
 * Run: npx tsx bench/commit-layouts.ts [N]   (each layout in its own child process)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordId } from 'surrealdb';
import { ROOT, tempDir } from './lib.js';

const LAYOUTS = ['v1', 'floor', 'segment'] as const;
type Layout = (typeof LAYOUTS)[number];
const TYPES = ['task_progress', 'task_started', 'task_completed', 'agent_status_changed', 'custom'];

async function worker(layout: Layout, n: number): Promise<void> {
  const { openConnection } = await import('../src/store/connection.js');
  const { migrate } = await import('../src/store/migrations.js');
  const { loadConfig } = await import('../src/config.js');
  const { EventRepository } = await import('../src/store/event-repository.js');
  const { toSegmentRecords } = await import('../src/store/segment-records.js');
  const { serverEventId } = await import('../src/store/event-ids.js');
  const { prepareEvent } = await import('../src/events/prepare.js');
  const db = await openConnection({ ...loadConfig({}).db, url: `rocksdb://${join(tempDir('layout'), 'db')}` });
  await migrate(db);
  await db.query(`DEFINE TABLE v1 SCHEMALESS; DEFINE INDEX a ON v1 FIELDS seq; DEFINE INDEX b ON v1 FIELDS rseq;
    DEFINE INDEX c ON v1 FIELDS type_key; DEFINE INDEX d ON v1 FIELDS type_rkey; DEFINE TABLE v1_log SCHEMALESS; DEFINE TABLE plain SCHEMALESS;`).collect();
  const repo = new EventRepository(db);
  const seconds = Number(process.env.BENCH_LAYOUT_SECONDS ?? 4);
  let seq = 0;
  let commits = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < seconds * 1000) {
    const prev = seq;
    const now = Date.now();
    const events = Array.from({ length: n }, () => {
      seq += 1;
      const input = { event_type: TYPES[seq % 5] as string, source: 'agent-1', payload: { progress: 0.4, message: 'indexing the repository' } };
      return { ...prepareEvent(input, new Date(now)), seq, event_id: serverEventId(seq, now) };
    });
    if (layout === 'segment') {
      await repo.commitSegments(prev, [toSegmentRecords(events, new Set(), now)]);
    } else if (layout === 'floor') {
      await db.query('INSERT INTO plain $rows RETURN NONE', { rows: events.map((e) => ({ id: new RecordId('plain', e.seq), doc: JSON.stringify(e) })) }).collect();
    } else {
      const key = (type: string, s: number) => `${type} ${String(s).padStart(16, '0')}`;
      const rows = events.map((e) => ({
        id: new RecordId('v1', e.event_id), doc: JSON.stringify(e), seq: e.seq, rseq: 2 ** 53 - 1 - e.seq,
        type_key: key(e.event_type, e.seq), type_rkey: key(e.event_type, 2 ** 53 - 1 - e.seq),
      }));
      await db.query(`BEGIN; IF ((SELECT VALUE value FROM ONLY herald_seq:v1) ?? 0) != $prev { THROW "moved" };
        UPSERT herald_seq:v1 SET value = $last RETURN NONE; LET $ins = INSERT IGNORE INTO v1 $rows RETURN VALUE record::id(id);
        CREATE v1_log CONTENT { first: $prev + 1, last: $last, inserted: $ins, docs: $docs, at: time::now() } RETURN NONE; COMMIT;`,
      { prev, last: seq, rows, docs: rows.map((r) => r.doc) }).collect();
    }
    commits += 1;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`| ${layout} | ${n} | ${Math.round((commits * n) / elapsed)} | ${((cpuMs / elapsed) / 10).toFixed(0)}% | ${(cpuMs / (commits * n)).toFixed(3)} |`);
  await db.close();
  process.exit(0);
}

const [layout, size] = process.argv.slice(2);
if (LAYOUTS.includes(layout as Layout)) {
  await worker(layout as Layout, Number(size));
} else {
  const n = Number(layout ?? 64);
  console.log('| layout | events per commit | events/s | process CPU | CPU ms per event |\n|---|---|---|---|---|');
  for (const l of LAYOUTS) spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), l, String(n)], { cwd: ROOT, stdio: 'inherit' });
}
