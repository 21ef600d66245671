/**
 * The fan-out bench's WebSocket clients, run as their own process (so client work does not share an event
 * loop with the server or the publisher): opens FANOUT_CLIENTS sockets to FANOUT_URL and, for every event
 * frame whose payload belongs to the current run, records receive time − payload.sent_at.
 *
 * Driven by bench/fanout.ts over IPC:
 *   parent → child  {cmd:'clock', t}                → {type:'clock', t, tc}       (clock offset estimate)
 *                   {cmd:'start', run, offsetMs}    → {type:'started', run}        (reset counters)
 *                   {cmd:'await', run, expected, quietMs, timeoutMs} → {type:'report', ...}
 *                   {cmd:'exit'}                    → closes every socket and exits
 *   child → parent  {type:'ready', open, failed, ms} once every socket is open (or failed)
 *
 * Times are performance.timeOrigin + performance.now() (wall-clock ms with sub-ms resolution); the parent
 * measures the offset between the two processes' clocks over IPC and sends it with `start`.
 *
 * Frames are not JSON-parsed: the payload's `run`, `i` and `sent_at` are read from the raw bytes, so the
 * client process spends as little CPU as possible per frame (it shares 2 cores with the server).
 */
import WebSocket from 'ws';

const URL_ = process.env.FANOUT_URL;
const CLIENTS = Number(process.env.FANOUT_CLIENTS ?? 100);
const CONNECT_CONCURRENCY = Number(process.env.FANOUT_CONNECT_CONCURRENCY ?? 50);
if (!URL_ || !process.send) {
  console.error('run by bench/fanout.ts: needs FANOUT_URL and an IPC channel');
  process.exit(2);
}
const send = (message: unknown) => process.send?.(message);
const now = () => performance.timeOrigin + performance.now();

// Latency histogram: 0.05 ms buckets up to 60 s, plus an overflow bucket.
const BUCKET_MS = 0.05;
const BUCKETS = Math.ceil(60_000 / BUCKET_MS);
let hist = new Uint32Array(BUCKETS + 1);
let maxLatency = 0;
let negative = 0;

let run = -1;
let offsetMs = 0;
let delivered = 0;
let otherFrames = 0;
let outOfOrder = 0;
let firstRecv = Number.NaN;
let lastRecv = Number.NaN;
let perSocket = new Uint32Array(CLIENTS);
let lastSeq = new Float64Array(CLIENTS).fill(-1);
const closes = new Map<string, number>();
let openCount = 0;
const sockets: WebSocket[] = [];

const RUN = Buffer.from('"run":');
const SENT = Buffer.from('"sent_at":');
// The event's own seq is its last field (Herald's Event and the ceiling's frame both end with it).
const SEQ = Buffer.from('"seq":');

/** The JSON number starting at `pos` (digits, sign, dot, exponent), or NaN. */
function numberAt(buf: Buffer, pos: number): number {
  let end = pos;
  while (end < buf.length) {
    const c = buf[end] as number;
    // 0-9 . - + e E
    if ((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43 || c === 101 || c === 69) end++;
    else break;
  }
  return end > pos ? Number(buf.toString('latin1', pos, end)) : Number.NaN;
}

function onFrame(index: number, data: Buffer): void {
  const received = now();
  const r = data.indexOf(RUN);
  if (r < 0) {
    otherFrames++;
    return;
  }
  if (numberAt(data, r + RUN.length) !== run) return; // warm-up or an earlier run
  const s = data.indexOf(SENT, r);
  const q = data.lastIndexOf(SEQ);
  const sentAt = s < 0 ? Number.NaN : numberAt(data, s + SENT.length);
  const seq = q < 0 ? Number.NaN : numberAt(data, q + SEQ.length);
  delivered++;
  perSocket[index] = (perSocket[index] as number) + 1;
  // A seq not above the previous one on this socket is a duplicate or a reordering.
  if (!(seq > (lastSeq[index] as number))) outOfOrder++;
  lastSeq[index] = seq;
  if (Number.isNaN(firstRecv)) firstRecv = received;
  lastRecv = received;
  let latency = received - offsetMs - sentAt;
  if (latency < 0) {
    negative++;
    latency = 0;
  }
  if (latency > maxLatency) maxLatency = latency;
  const b = Math.min(BUCKETS, Math.floor(latency / BUCKET_MS));
  hist[b] = (hist[b] as number) + 1;
}

function percentileOf(p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let b = 0; b <= BUCKETS; b++) {
    seen += hist[b] as number;
    if (seen >= rank) return b === BUCKETS ? maxLatency : (b + 1) * BUCKET_MS; // upper edge of the bucket
  }
  return maxLatency;
}

function reset(newRun: number, offset: number): void {
  run = newRun;
  offsetMs = offset;
  hist = new Uint32Array(BUCKETS + 1);
  maxLatency = 0;
  negative = 0;
  delivered = 0;
  otherFrames = 0;
  outOfOrder = 0;
  firstRecv = Number.NaN;
  lastRecv = Number.NaN;
  perSocket = new Uint32Array(CLIENTS);
  lastSeq = new Float64Array(CLIENTS).fill(-1);
}

function report(expected: number, waitedMs: number, reason: string) {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let complete = 0;
  for (const n of perSocket) {
    min = Math.min(min, n);
    max = Math.max(max, n);
    if (n >= expected) complete++;
  }
  const cpu = process.cpuUsage();
  return {
    type: 'report',
    run,
    delivered,
    expectedPerSocket: expected,
    socketsComplete: complete,
    perSocketMin: min,
    perSocketMax: max,
    outOfOrder,
    otherFrames,
    negativeLatencies: negative,
    p50: percentileOf(50),
    p90: percentileOf(90),
    p99: percentileOf(99),
    p999: percentileOf(99.9),
    max: maxLatency,
    // In the publisher's clock.
    firstRecv: firstRecv - offsetMs,
    lastRecv: lastRecv - offsetMs,
    open: openCount,
    closes: Object.fromEntries(closes),
    waitedMs,
    reason,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

async function awaitRun(expected: number, quietMs: number, timeoutMs: number): Promise<void> {
  const started = now();
  let lastCount = -1;
  let quietSince = started;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const t = now();
    let done = openCount > 0;
    for (let k = 0; k < CLIENTS && done; k++) if ((sockets[k]?.readyState === WebSocket.OPEN) && (perSocket[k] as number) < expected) done = false;
    if (done) return void send(report(expected, t - started, 'complete'));
    if (delivered !== lastCount) {
      lastCount = delivered;
      quietSince = t;
    } else if (t - quietSince >= quietMs) return void send(report(expected, t - started, `quiet ${quietMs} ms`));
    if (t - started >= timeoutMs) return void send(report(expected, t - started, `timeout ${timeoutMs} ms`));
  }
}

function connect(index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(URL_ as string, { perMessageDeflate: false });
    sockets[index] = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      openCount++;
      resolve(true);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) onFrame(index, data);
    });
    ws.on('close', (code) => {
      if (opened) openCount--;
      closes.set(String(code), (closes.get(String(code)) ?? 0) + 1);
      resolve(false);
    });
    ws.on('error', () => resolve(false));
  });
}

process.on('message', (message: { cmd: string; t?: number; run?: number; offsetMs?: number; expected?: number; quietMs?: number; timeoutMs?: number }) => {
  switch (message.cmd) {
    case 'clock':
      send({ type: 'clock', t: message.t, tc: now() });
      break;
    case 'start':
      reset(message.run as number, message.offsetMs ?? 0);
      send({ type: 'started', run });
      break;
    case 'await':
      if (message.run !== run) reset(message.run as number, offsetMs);
      void awaitRun(message.expected ?? 1, message.quietMs ?? 2000, message.timeoutMs ?? 30_000);
      break;
    case 'exit':
      for (const ws of sockets) ws?.terminate();
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
process.on('disconnect', () => process.exit(0));

const t0 = now();
let next = 0;
let failed = 0;
await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, CLIENTS) }, async () => {
  while (next < CLIENTS) {
    const index = next++;
    if (!(await connect(index))) failed++;
  }
}));
send({ type: 'ready', open: openCount, failed, ms: now() - t0 });
