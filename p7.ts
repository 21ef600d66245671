import { openConnection } from './src/store/connection.js';
import { toRow } from './src/store/event-rows.js';
import { prepareEvent } from './src/events/prepare.js';
const [variant, nStr] = process.argv.slice(2);
const N = Number(nStr ?? 64);
const db = await openConnection({ url: `rocksdb:///tmp/p7-${Date.now()}`, namespace: 'a', database: 'b', username: '', password: '', connectTimeoutMs: 5000 });
const fields = `DEFINE FIELD event_type ON event TYPE string;
DEFINE FIELD source ON event TYPE string; DEFINE FIELD target ON event TYPE option<string>;
DEFINE FIELD payload ON event TYPE object FLEXIBLE DEFAULT {}; DEFINE FIELD metadata ON event TYPE object FLEXIBLE DEFAULT {};
DEFINE FIELD timestamp ON event TYPE datetime; DEFINE FIELD priority ON event TYPE string;
DEFINE FIELD correlation_id ON event TYPE option<string>; DEFINE FIELD workflow_id ON event TYPE option<string>; DEFINE FIELD session_id ON event TYPE option<string>;
DEFINE FIELD retry_count ON event TYPE int DEFAULT 0; DEFINE FIELD max_retries ON event TYPE option<int>; DEFINE FIELD expires_at ON event TYPE option<datetime>;
DEFINE FIELD received_at ON event TYPE datetime; DEFINE FIELD seq ON event TYPE int; DEFINE FIELD rseq ON event TYPE int; DEFINE FIELD type_key ON event TYPE string; DEFINE FIELD type_rkey ON event TYPE string;`;
const idx4 = `DEFINE INDEX a ON event FIELDS seq; DEFINE INDEX b ON event FIELDS rseq; DEFINE INDEX c ON event FIELDS type_key; DEFINE INDEX d ON event FIELDS type_rkey;`;
const idx8 = idx4 + `DEFINE INDEX e ON event FIELDS correlation_id; DEFINE INDEX f ON event FIELDS workflow_id; DEFINE INDEX g ON event FIELDS session_id; DEFINE INDEX h ON event FIELDS expires_at;`;
const v: Record<string,string> = {
  sl0: `DEFINE TABLE event SCHEMALESS;`,
  sl4: `DEFINE TABLE event SCHEMALESS;` + idx4,
  sl8: `DEFINE TABLE event SCHEMALESS;` + idx8,
  sf0: `DEFINE TABLE event SCHEMAFULL;` + fields,
  sf4: `DEFINE TABLE event SCHEMAFULL;` + fields + idx4,
  slr: `DEFINE TABLE event SCHEMALESS;` + idx4 + `DEFINE INDEX r ON event FIELDS refs;`,
  sl1: `DEFINE TABLE event SCHEMALESS; DEFINE INDEX b ON event FIELDS rseq;`,
};
await db.query(v[variant]!);
let seq = 0; const t0 = performance.now(); let total = 0;
while (performance.now() - t0 < 4000) {
  const now = new Date();
  const rows = Array.from({ length: N }, () => { const e = { ...prepareEvent({ event_type: 'task_progress', source: 'bench', payload: { step: 3, of: 10, message: 'processing chunk of the document for the agent run', data: 'x'.repeat(58) } }, now), seq: ++seq }; const r: any = toRow(e, now); if (variant === 'slr' && seq % 3 === 0) r.refs = ['c:' + e.event_id]; return r; });
  await db.query('INSERT IGNORE INTO event $rows RETURN NONE', { rows }).collect(); total += N;
}
if (variant === 'slr') { console.log(JSON.stringify(await db.query("EXPLAIN SELECT * FROM event WHERE refs CONTAINS 'c:x'").collect())); }
console.log(variant, N, Math.round(total / 4), 'events/s');
process.exit(0);
