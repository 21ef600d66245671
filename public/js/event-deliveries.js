// An opened event's deliveries: Herald lists deliveries per subscription, so each subscription's newest
// LOOKBACK deliveries are searched for the event (admin scope; a read-only key is told so).

import { api, describeError, isAdmin } from './api.js';
import { formatRelative, h } from './dom.js';

const LOOKBACK = 100;

export async function showEventDeliveries(event, detail, subscriptions) {
  if (!isAdmin()) {
    detail.append(h('p', { class: 'muted small' }, 'Deliveries need a key with the admin scope.'));
    return;
  }
  const box = h('div', { class: 'ev-deliveries', role: 'status' }, h('p', { class: 'muted small' }, 'Looking for deliveries…'));
  detail.append(box);
  try {
    const found = [];
    for (const sub of subscriptions()) {
      const page = await api(`/subscriptions/${encodeURIComponent(sub.subscription_id)}/deliveries?limit=${LOOKBACK}`);
      for (const d of page.deliveries) if (d.event_id === event.event_id) found.push([sub, d]);
    }
    box.replaceChildren(found.length === 0
      ? h('p', { class: 'muted small' }, `No deliveries among each subscription's newest ${LOOKBACK}.`)
      : h('ul', { class: 'ev-delivery-list' }, found.map(([sub, d]) => h('li', {},
        h('span', { class: `badge status-${d.status}` }, d.status), ' ',
        h('strong', {}, sub.subscriber_name),
        h('span', { class: 'muted' }, ` · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · ${formatRelative(d.last_attempt_at ?? d.created_at)}`)))));
  } catch (err) {
    box.replaceChildren(h('p', { class: 'notice' }, describeError(err)));
  }
}
