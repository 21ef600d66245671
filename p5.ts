import { openConnection } from './src/store/connection.js';
import { migrate } from './src/store/migrations.js';
import { EventRepository } from './src/store/event-repository.js';
import { toRow } from './src/store/event-rows.js';
import { prepareEvent } from './src/events/prepare.js';
const variant = process.argv[2] ?? 'full';
const db = await openConnection({ url: `rocksdb:///tmp/p5-${variant}-${Date.now()}`, namespace: 'a', database: 'b', username: '', password: '', connectTimeoutMs: 5000 });
await migrate(db);
if (variant !== 'full') {
  const drop = variant.split(',');
  for (const d of drop) await db.query(`REMOVE INDEX ${d} ON event`);
}
const repo = new EventRepository(db);
let seq = 0; const N = 64; const t0 = performance.now(); let total = 0;
while (performance.now() - t0 < 5000) {
  const now = new Date();
  const rows = Array.from({ length: N }, () => { const e = { ...prepareEvent({ event_type: 'task_progress', source: 'bench', payload: { step: 3, of: 10, message: 'processing chunk of the document for the agent run', data: 'x'.repeat(58) } }, now), seq: ++seq }; return toRow(e, now); });
  await repo.insertBatch(seq - N, seq, rows); total += N;
}
console.log(variant, Math.round(total / 5), 'events/s');
process.exit(0);
