import { HeraldError } from './errors.js';
import type { EventInput, HeraldEvent } from './types.js';
import { uuid } from './uuid.js';

/** What a transaction callback publishes through: events are held until the callback returns. */
export interface TransactionPublisher {
  readonly correlationId: string;
  /**
   * Buffers the event with the transaction's correlation id and returns it as it will be sent: with an
   * `event_id` (generated when absent), so the caller can refer to it before it is stored.
   */
  publish(event: EventInput): EventInput & { event_id: string };
}

export interface TransactionOptions {
  /** `source` of the `system_alert` published when the transaction fails (default `herald-client`). */
  alertSource?: string;
}

export interface TransactionResult<T> {
  /** The stored events, in the order they were buffered. */
  events: HeraldEvent[];
  /** What the callback returned. */
  result: T;
}

interface Publisher {
  publish(event: EventInput): Promise<HeraldEvent>;
  publishBatch(events: EventInput[], options: { correlationId?: string }): Promise<HeraldEvent[]>;
}

/**
 * `event_transaction` (the original Python client's name for it), made atomic: the buffered events go out as
 * one `POST /events/batch` (all stored or none). When the callback throws, or the batch is refused as
 * invalid, nothing of it is stored and a `system_alert` `{error, failed_events}` with the correlation id says
 * so; the error is rethrown.
 */
export async function runTransaction<T>(
  client: Publisher,
  correlationId: string,
  fn: (tx: TransactionPublisher) => Promise<T> | T,
  options: TransactionOptions = {},
): Promise<TransactionResult<T>> {
  const buffered: Array<EventInput & { event_id: string }> = [];
  let open = true;
  const tx: TransactionPublisher = {
    correlationId,
    publish(event) {
      // A publish after the callback settled would silently belong to no batch.
      if (!open) throw new Error(`transaction ${correlationId} is already finished`);
      const held = { ...event, event_id: event.event_id ?? uuid(), correlation_id: correlationId };
      buffered.push(held);
      return held;
    },
  };

  const rollback = async (error: unknown): Promise<never> => {
    try {
      await client.publish({
        event_type: 'system_alert',
        source: options.alertSource ?? 'herald-client',
        priority: 'high',
        correlation_id: correlationId,
        payload: { error: error instanceof Error ? error.message : String(error), failed_events: buffered.length },
      });
    } catch (alertError) {
      throw new AggregateError([error, alertError], `transaction ${correlationId} failed and its system_alert could not be published`);
    }
    throw error;
  };

  let result: T;
  try {
    result = await fn(tx);
  } catch (err) {
    open = false;
    return rollback(err);
  }
  open = false;
  if (buffered.length === 0) return { events: [], result };
  try {
    return { events: await client.publishBatch(buffered, { correlationId }), result };
  } catch (err) {
    // 400/413: Herald refused the batch as it stands, so nothing was stored. Any other failure (network,
    // 5xx) leaves the outcome unknown, and an alert claiming the events failed could be false.
    if (err instanceof HeraldError && (err.status === 400 || err.status === 413)) return rollback(err);
    throw err;
  }
}
