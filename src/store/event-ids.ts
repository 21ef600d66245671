import { randomFillSync } from 'node:crypto';

/**
 * Server-generated event ids are UUIDv7 (RFC 9562) whose 62-bit `rand_b` field carries the event's seq in its
 * low 53 bits (RFC 9562 §6.2 allows a counter there): ids sort by creation time like any v7, and
 * `GET /events/:event_id` finds the event's segment from the id alone, with no row per event. The 12 bits of
 * `rand_a` and the top 9 bits of `rand_b` stay random.
 *
 * A client may send any UUID, including a v7 that happens to decode to some seq: client-supplied ids always
 * have an `event_key` row, which is looked up first, and a decoded seq only counts when the event stored at
 * that seq carries exactly this id.
 */
export function serverEventId(seq: number, nowMs: number): string {
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  const r = randomWord();
  bytes[6] = 0x70 | (r & 0x0f);
  bytes[7] = (r >>> 4) & 0xff;
  // rand_b: variant 10, 9 random bits, then the seq's top 21 bits in this word and its low 32 in the next.
  bytes.writeUInt32BE(((0b10 << 30) | (((r >>> 12) & 0x1ff) << 21) | Math.floor(seq / 2 ** 32)) >>> 0, 8);
  bytes.writeUInt32BE(seq >>> 0, 12);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Random 32-bit words from a pooled buffer: one randomFillSync per 1024 ids instead of one per id. */
const pool = new Uint32Array(1024);
let poolIndex = pool.length;
function randomWord(): number {
  if (poolIndex === pool.length) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  return pool[poolIndex++] as number;
}

/** The seq a server-generated id would carry; null when the id is not a v7 UUID. Verify before trusting it. */
export function seqOfEventId(eventId: string): number | null {
  const hex = eventId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex) || hex[12] !== '7') return null;
  const tail = BigInt(`0x${hex.slice(16)}`);
  if (tail >> 62n !== 0b10n) return null;
  const seq = Number(tail & ((1n << 53n) - 1n));
  return seq > 0 ? seq : null;
}
