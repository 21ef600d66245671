import type { Event } from '../schemas/event.js';

/**
 * A subscription's `ordering_key`: null (parallel), "subscription" (one FIFO line), or the event field whose
 * value orders deliveries. The line an event waits in, or undefined when it waits in none (unordered: no key
 * configured, or the event lacks the value).
 */
export function orderingLine(orderingKey: string | null | undefined, event: Event): string | undefined {
  if (orderingKey === null || orderingKey === undefined) return undefined;
  if (orderingKey === 'subscription') return '';
  let value: unknown;
  if (orderingKey.startsWith('payload.')) {
    value = event.payload;
    for (const part of orderingKey.slice('payload.'.length).split('.')) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
    }
  } else {
    value = (event as unknown as Record<string, unknown>)[orderingKey];
  }
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? `s${value}` : `j${JSON.stringify(value)}`;
}
