import type { HeraldEvent, Subscription } from '../client/index.js';

const PAYLOAD_SUMMARY_CHARS = 120;

/** `seq  time  type  source  payload`: one line per event, columns in a fixed order, for people and grep. */
export function eventLine(event: HeraldEvent): string {
  const payload = JSON.stringify(event.payload ?? {});
  const summary = payload.length > PAYLOAD_SUMMARY_CHARS ? `${payload.slice(0, PAYLOAD_SUMMARY_CHARS - 1)}…` : payload;
  return [event.seq, event.timestamp, event.event_type, event.source, summary].join('  ');
}

/** Subscriptions as an aligned table with a header row. */
export function subscriptionTable(subscriptions: readonly Subscription[]): string[] {
  const rows = subscriptions.map((s) => [
    s.subscription_id, s.subscriber_name, s.is_active ? 'active' : `inactive${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`,
    s.event_types.join(',') || '*', s.callback_url ?? '-',
  ]);
  return table(['ID', 'NAME', 'STATUS', 'TYPES', 'CALLBACK'], rows);
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)];
}
