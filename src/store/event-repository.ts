import type { Surreal } from 'surrealdb';
import type { Event } from '../schemas/event.js';
import { seqOfEventId } from './event-ids.js';
import { storedDocs } from './segment-docs.js';
import { SegmentPurge } from './segment-purge.js';
import { SegmentReads } from './segment-reads.js';
import type { SegmentRecords } from './segment-records.js';
import { transactionFailure } from './transaction-errors.js';
import { SEGMENT_MAX_EVENTS, SEQ_MAX, decodeDocs, eventKeyId, type EventKeyRow, type SegmentRow } from './segment-rows.js';

/** Another writer advanced the seq counter since this one read it. */
export class SeqMovedError extends Error {}
/** A client-supplied event_id of the commit is already stored (by another request, or another replica). */
export class DuplicateKeyError extends Error {}

export { isWriteConflict } from './transaction-errors.js';

/**
 * All SurrealQL that writes or looks up events in the segment log (docs/storage.md). History reads live in
 * event-history.ts, retention and expiry in segment-purge.ts; all of them read through `reads`.
 */
export class EventRepository {
  readonly reads: SegmentReads;
  readonly purge: SegmentPurge;
  /** Event types this process has seen committed: their registry row exists, so commits skip writing it. */
  private readonly registeredTypes = new Set<string>();

  constructor(private readonly db: Surreal) {
    this.reads = new SegmentReads(db);
    this.purge = new SegmentPurge(db, this.reads);
  }

  /** The seq counter: the highest seq any writer has committed (0 before the first event). */
  async seqUpperBound(): Promise<number> {
    const [value] = await this.db
      .query<[number | undefined]>('RETURN (SELECT VALUE value FROM ONLY herald_seq:event) ?? 0')
      .collect();
    return value ?? 0;
  }

  /**
   * Commits consecutive segments (seqs prevSeq+1 .. the last one's last) in one transaction that first moves
   * the shared counter from prevSeq to that last seq — so seqs follow commit order across writers
   * (SeqMovedError: another writer was first) and segments tile the seq space with no gap. DuplicateKeyError: one of its
   * client-supplied event_ids is stored already; nothing was written. Webhook deliveries read the log by cursor: a commit
   * writes nothing per subscription (docs/webhooks.md).
   */
  async commitSegments(prevSeq: number, segments: SegmentRecords[]): Promise<void> {
    const last = segments.at(-1)?.segment.last;
    if (last === undefined) return;
    const keys = segments.flatMap((r) => r.keys);
    const allTypes = new Map(segments.flatMap((r) => r.types.map((t) => [String(t.id.id), t] as const)));
    const types = [...allTypes].filter(([name]) => !this.registeredTypes.has(name)).map(([, t]) => t);
    // One INSERT without INTO writes rows of several tables: each statement costs the engine ~0.5 ms.
    const rows = segments.flatMap((r) => [r.segment, ...r.segTypes, ...r.refs, ...r.expiries]);
    const responses = await this.db
      .query(
        `IF (UPDATE ONLY herald_seq:event SET value = $last WHERE value = $prev RETURN VALUE value) != $last {
          THROW "herald:seq_moved";
        } ELSE {
          ${keys.length > 0 ? `LET $ins = INSERT IGNORE INTO event_key $keys RETURN VALUE id;
          IF array::len($ins) != ${keys.length} { THROW "herald:duplicate" };` : ''}
          INSERT $rows RETURN NONE;
          ${types.length > 0 ? 'INSERT IGNORE INTO event_type $types RETURN NONE;' : ''}
        };`,
        { prev: prevSeq, last, keys, rows, types },
      )
      .responses();
    const failure = transactionFailure(responses);
    if (failure) {
      if (failure.messages.some((m) => m.includes('herald:seq_moved'))) throw new SeqMovedError('seq counter moved');
      if (failure.messages.some((m) => m.includes('herald:duplicate'))) throw new DuplicateKeyError('an event_id is stored already');
      throw new Error(failure.cause);
    }
    for (const name of allTypes.keys()) this.registeredTypes.add(name);
  }

  /** The stored events of these client-supplied ids, through their `event_key` rows, by id. */
  async storedByKey(eventIds: string[]): Promise<Map<string, Event>> {
    const found = new Map<string, Event>();
    if (eventIds.length === 0) return found;
    const [keys] = await this.db
      .query<[Array<EventKeyRow | undefined>]>('SELECT * FROM $ids', { ids: eventIds.map(eventKeyId) })
      .collect();
    const keyed = keys.filter((k): k is EventKeyRow => Boolean(k));
    const segments = await this.reads.byIds([...new Set(keyed.map((k) => k.segment))]);
    const bySeq = new Map(segments.flatMap((s) => decodeDocs(s).map((e) => [e.seq, e] as const)));
    for (const key of keyed) {
      const event = bySeq.get(key.seq);
      if (event) found.set(event.event_id, event);
    }
    return found;
  }

  /**
   * The stored events among ids of server-generated form whose seq is at most `upper` (a client publishing
   * an id Herald generated, which has no key row), by id. No query when no id decodes to such a seq.
   */
  async storedByServerId(eventIds: string[], upper: number): Promise<Map<string, Event>> {
    const located = eventIds.map((id) => ({ id, seq: seqOfEventId(id) })).filter((l) => l.seq !== null && l.seq <= upper);
    const atSeqs = await this.eventsAt(located.map((l) => l.seq as number));
    const found = new Map<string, Event>();
    for (const { id, seq } of located) {
      const event = atSeqs.get(seq as number);
      if (event?.event_id === id) found.set(id, event);
    }
    return found;
  }

  /** The stored events at these seqs (each segment read once); seqs no stored segment holds are left out. */
  async eventsAt(seqs: number[]): Promise<Map<number, Event>> {
    const found = new Map<number, Event>();
    let read = 0; // every seq up to here has been looked up
    for (const seq of [...new Set(seqs)].sort((a, b) => a - b)) {
      if (seq <= read || seq < 1 || seq > SEQ_MAX - SEGMENT_MAX_EVENTS) continue;
      const segment = await this.reads.covering(seq);
      read = segment?.last ?? seq;
      for (const event of segment ? decodeDocs(segment) : []) found.set(event.seq, event);
    }
    return found;
  }

  /** Any stored event by id, expired ones included: a client id through its key, a server id through its seq. */
  async getById(eventId: string): Promise<Event | undefined> {
    const key = await this.reads.eventKey(eventId);
    let segment: SegmentRow | undefined;
    if (key) [segment] = await this.reads.byIds([key.segment]);
    const seq = key?.seq ?? seqOfEventId(eventId);
    if (!segment && seq !== null && seq <= SEQ_MAX - SEGMENT_MAX_EVENTS) segment = await this.reads.covering(seq);
    const event = segment && storedDocs(segment).find((d) => d.seq === seq)?.event();
    return event?.event_id === eventId ? event : undefined;
  }

  /** The lowest seq retention has not deleted: a resume cursor below it has lost events. */
  async retainedFrom(): Promise<number> {
    return (await this.purge.purgedThrough()) + 1;
  }

  /** Documents held by stored segments, expired ones not yet purged included. Reads every segment: for tests. */
  async count(): Promise<number> {
    const [docs] = await this.db.query<[string[]]>('SELECT VALUE docs FROM segment').collect();
    return docs.reduce((n, text) => n + decodeDocs({ docs: text }).length, 0);
  }
}
