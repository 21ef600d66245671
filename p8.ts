import { openConnection } from './src/store/connection.js';
import { RecordId } from 'surrealdb';
import { prepareEvent } from './src/events/prepare.js';
const [variant, nStr, parStr] = process.argv.slice(2);
const N = Number(nStr ?? 64); const PAR = Number(parStr ?? 1);
const db = await openConnection({ url: `rocksdb:///tmp/p8-${Date.now()}`, namespace: 'a', database: 'b', username: '', password: '', connectTimeoutMs: 5000 });
await db.query(`DEFINE TABLE event SCHEMALESS; DEFINE INDEX a ON event FIELDS seq; DEFINE INDEX b ON event FIELDS rseq; DEFINE INDEX c ON event FIELDS type_key; DEFINE INDEX d ON event FIELDS type_rkey;`);
let seq = 0; const t0 = performance.now(); let total = 0; const M = 2**53-1;
async function w() {
while (performance.now() - t0 < 4000) {
  const now = new Date();
  const rows = Array.from({ length: N }, () => { const e = { ...prepareEvent({ event_type: 'task_progress', source: 'bench', payload: { step: 3, of: 10, message: 'processing chunk of the document for the agent run', data: 'x'.repeat(58) } }, now), seq: ++seq };
    const keys = { id: new RecordId('event', e.event_id), seq: e.seq, rseq: M - e.seq, type_key: e.event_type + ' ' + String(e.seq).padStart(16,'0'), type_rkey: e.event_type + ' ' + String(M-e.seq).padStart(16,'0') };
    return variant === 'blob' ? { ...keys, doc: JSON.stringify(e) } : { ...keys, ...e, event_id: undefined, timestamp: now }; });
  await db.query('INSERT IGNORE INTO event $rows RETURN NONE', { rows }).collect(); total += N;
}}
await Promise.all(Array.from({length: PAR}, w));
console.log(variant, N, PAR, Math.round(total / 4), 'events/s');
process.exit(0);
