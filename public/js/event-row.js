// One event as a list row, shared by the live list and history. Click a row to see the whole event and,
// with the admin scope, which subscriptions got it.

import { formatTime, h, hueOf, truncate } from './dom.js';

/** onOpen(event, detailEl): the row was opened; it may add to the detail (the event's deliveries). */
export function eventRow(event, onOpen) {
  const payload = JSON.stringify(event.payload ?? {});
  const type = h('span', { class: 'ev-type' }, event.event_type);
  type.style.setProperty('--hue', String(hueOf(String(event.event_type))));
  const summary = h('button', { type: 'button', class: 'ev-summary', 'aria-expanded': 'false' },
    h('span', { class: 'ev-time', title: event.timestamp }, formatTime(event.timestamp)),
    h('span', { class: 'ev-seq' }, `#${event.seq}`),
    type,
    h('span', { class: `badge prio-${event.priority}` }, event.priority),
    h('span', { class: 'ev-source' }, event.source, event.target ? ` → ${event.target}` : ''),
    h('span', { class: 'ev-payload' }, truncate(payload, 200)),
  );
  const row = h('li', { class: 'event', dataset: { seq: event.seq, type: event.event_type, priority: event.priority, ...(event.target && { targeted: '' }) } }, summary);
  summary.addEventListener('click', () => {
    let detail = row.querySelector('.ev-detail');
    if (!detail) {
      detail = h('div', { class: 'ev-detail', hidden: true }, h('pre', { class: 'ev-json' }, JSON.stringify(event, null, 2)));
      row.append(detail);
      onOpen?.(event, detail);
    }
    detail.hidden = !detail.hidden;
    summary.setAttribute('aria-expanded', String(!detail.hidden));
  });
  return row;
}
