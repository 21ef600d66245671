import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConnection } from './src/store/connection.js';
import { migrate } from './src/store/migrations.js';
import { loadConfig } from './src/config.js';
import { EventRepository } from './src/store/event-repository.js';
import { toSegmentRecords } from './src/store/segment-records.js';
import { serverEventId } from './src/store/event-ids.js';
import { prepareEvent } from './src/events/prepare.js';
const N = Number(process.env.N ?? 100);
const db = await openConnection({ ...loadConfig({}).db, url: `rocksdb://${join(mkdtempSync(join(tmpdir(), 'sc-')), 'db')}` });
await migrate(db);
const repo = new EventRepository(db);
const input = { event_type: 'task_progress', source: 'agent-1', payload: { progress: 0.4, message: 'indexing the repository' } };
let seq = 0, n = 0, build = 0;
const t0 = performance.now(); const c0 = process.cpuUsage();
while (performance.now() - t0 < 5000) {
  const b0 = performance.now();
  const prev = seq; const now = Date.now();
  const events = Array.from({ length: N }, () => ({ ...prepareEvent(input, new Date()), seq: ++seq, event_id: serverEventId(seq, now) }));
  const rec = toSegmentRecords(events, new Set(), now);
  build += performance.now() - b0;
  await repo.commitSegment(prev, rec);
  n++;
}
const el = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(c0);
console.log(`N=${N}: ${(n * N / el).toFixed(0)} events/s, ${(el * 1000 / n).toFixed(2)} ms/commit, build ${(build / n).toFixed(2)} ms/commit, CPU ${(((cpu.user + cpu.system) / 1e6) / el * 100).toFixed(0)}%`);
await db.close(); process.exit(0);
