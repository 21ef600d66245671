import { openConnection } from './src/store/connection.js';
import { migrate } from './src/store/migrations.js';
import { toRow } from './src/store/event-rows.js';
import { prepareEvent } from './src/events/prepare.js';
const [mode, nStr, par] = process.argv.slice(2);
const N = Number(nStr);
const db = await openConnection({ url: `rocksdb:///tmp/p6-${Date.now()}`, namespace: 'a', database: 'b', username: '', password: '', connectTimeoutMs: 5000 });
await migrate(db);
let seq = 0; const t0 = performance.now(); let total = 0;
const sql: Record<string,string> = {
  cas: `BEGIN; LET $cur = (SELECT VALUE value FROM ONLY herald_seq:event) ?? 0; IF $cur != $prev { THROW "x" }; UPSERT herald_seq:event SET value = $last RETURN NONE; INSERT IGNORE INTO event $rows RETURN VALUE record::id(id); COMMIT;`,
  ign: `BEGIN; INSERT IGNORE INTO event $rows RETURN VALUE record::id(id); COMMIT;`,
  ignnone: `BEGIN; INSERT IGNORE INTO event $rows RETURN NONE; COMMIT;`,
  plain: `INSERT INTO event $rows RETURN NONE;`,
};
async function worker() {
while (performance.now() - t0 < 5000) {
  const now = new Date();
  const rows = Array.from({ length: N }, () => { const e = { ...prepareEvent({ event_type: 'task_progress', source: 'bench', payload: { step: 3, of: 10, message: 'processing chunk of the document for the agent run', data: 'x'.repeat(58) } }, now), seq: ++seq }; return toRow(e, now); });
  await db.query(sql[mode]!, { rows, prev: seq - N, last: seq }).responses(); total += N;
}}
await Promise.all(Array.from({ length: Number(par ?? 1) }, worker));
console.log(mode, N, par, Math.round(total / 5), 'events/s');
process.exit(0);
