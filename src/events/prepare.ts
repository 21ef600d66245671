import type { Event, EventInput } from '../schemas/event.js';
import type { TraceContext } from '../tracing/context.js';

/**
 * An event with every default applied, waiting for the committer to give it a seq. `event_id` is null when
 * the client sent none: the committer generates it at commit time, because a server id carries the seq
 * (src/store/event-ids.ts).
 */
export type PreparedEvent = Omit<Event, 'seq' | 'event_id'> & { event_id: string | null };

/**
 * Fills the documented defaults (docs/design.md#events); timestamps are normalized to UTC ISO-8601 so stored
 * and echoed forms agree.
 */
export function prepareEvent(input: EventInput, now: Date, correlationId?: string, trace: TraceContext = {}): PreparedEvent {
  return {
    event_id: input.event_id ?? null,
    event_type: input.event_type,
    source: input.source,
    target: input.target ?? null,
    payload: input.payload ?? {},
    metadata: input.metadata ?? {},
    timestamp: input.timestamp ? new Date(input.timestamp).toISOString() : now.toISOString(),
    priority: input.priority ?? 'normal',
    correlation_id: correlationId ?? input.correlation_id ?? null,
    workflow_id: input.workflow_id ?? null,
    session_id: input.session_id ?? null,
    retry_count: input.retry_count ?? 0,
    max_retries: input.max_retries ?? null,
    expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
    ...trace,
  };
}
