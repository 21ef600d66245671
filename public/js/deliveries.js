// The selected subscription: its endpoint's health, its controls (edit, pause/resume, test event, rotate,
// delete, replay) and its newest deliveries with their attempts. Kept current without a fixed poll: a stream
// with the subscription's own types and filters says when a matching event (so a new delivery) arrives,
// and the deliveries' next_attempt_at says when an attempt is due (docs/dashboard.md).

import { api, ApiError, authEvents, describeError } from './api.js';
import { $, formatRelative, formatTime, h, truncate } from './dom.js';
import { openStream } from './stream.js';
import { healthState } from './subscriptions.js';
import { showSecret } from './secret.js';

const SHOWN = 25;
/** While an attempt is due or running, look again this soon. */
const IN_FLIGHT_MS = 500;
/** Events arriving in a burst cause one reload. */
const SETTLE_MS = 200;
/** setTimeout's ceiling: later attempts are looked at when something else happens first. */
const MAX_WAIT_MS = 2 ** 31 - 1;
/** Subscription fields that are configuration, not health: everything else the resource carries is shown. */
const CONFIG_FIELDS = new Set(['secret', 'subscription_id', 'subscriber_name', 'event_types', 'filters', 'filter', 'format', 'ordering_key', 'rate_limit', 'callback_url', 'is_active', 'created_at', 'updated_at']);

/** onChanged(): a control changed the subscription (the list reloads); onEdit(sub): open the form. */
export function mountDeliveries(section, { onChanged, onEdit }) {
  const table = $('tbody', section);
  const title = $('.deliveries-title', section);
  const empty = $('.empty', section);
  const notice = $('.notice', section);
  const detail = $('.sub-detail', section);
  const health = $('.health', section);
  const statusFilter = $('select[name="status"]', section);
  const replayForm = $('form.replay', section);
  const secretBox = $('.secret', section);
  const open = new Set(); // delivery ids whose attempts are shown
  let sub = null;
  let stream = null;
  let following = ''; // what the stream matches: reopened when the subscription's match changes
  let timer = null;
  let generation = 0;

  function fail(err) {
    notice.textContent = describeError(err);
    notice.hidden = false;
  }

  function renderHealth() {
    const rows = [];
    for (const [name, value] of Object.entries(sub)) {
      if (CONFIG_FIELDS.has(name) || value === null || value === undefined) continue;
      const entries = typeof value === 'object' ? Object.entries(value) : [[null, value]];
      for (const [part, v] of entries) {
        if (v === null || v === undefined) continue;
        const text = typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? `${formatTime(v)} (${formatRelative(v)})` : typeof v === 'object' ? JSON.stringify(v) : String(v);
        rows.push(h('div', {}, h('dt', {}, part ? `${name}.${part}` : name), h('dd', {}, text)));
      }
    }
    const [state, label] = healthState(sub);
    health.replaceChildren(h('div', {}, h('dt', {}, 'state'), h('dd', {}, h('span', { class: `badge state-${state}` }, label))), ...rows);
    $('[data-action="toggle"]', section).textContent = sub.is_active ? 'Pause' : 'Resume';
  }

  function attemptsList(d) {
    return h('ol', { class: 'attempts' }, d.attempts_log.length === 0
      ? h('li', { class: 'muted' }, 'Not attempted yet.')
      : d.attempts_log.map((a) => h('li', { class: 'attempt' },
        h('span', { class: `badge ${a.status_code !== null && a.status_code < 300 ? 'status-delivered' : 'status-failed'}` }, a.status_code === null ? 'no answer' : `HTTP ${a.status_code}`),
        h('span', { class: 'muted' }, `#${a.attempt} · ${formatTime(a.at)} · ${Math.round(a.duration_ms)} ms`),
        a.error && h('span', { class: 'attempt-error' }, a.error),
        a.response_body && h('pre', { class: 'attempt-body' }, truncate(a.response_body, 600)))));
  }

  async function toggleAttempts(d, row, button) {
    const next = row.nextElementSibling;
    if (next?.classList.contains('attempts-row')) {
      next.remove();
      open.delete(d.delivery_id);
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    open.add(d.delivery_id);
    button.setAttribute('aria-expanded', 'true');
    try {
      const full = await api(`/deliveries/${encodeURIComponent(d.delivery_id)}`);
      if (row.isConnected && !row.nextElementSibling?.classList.contains('attempts-row')) {
        row.after(h('tr', { class: 'attempts-row', dataset: { deliveryId: d.delivery_id } }, h('td', { colspan: 6 }, attemptsList(full))));
      }
    } catch (err) {
      fail(err);
    }
  }

  function deliveryRow(d) {
    const result = d.last_status_code !== null ? `HTTP ${d.last_status_code}` : d.last_error ?? '—';
    const when = d.next_attempt_at && d.status !== 'pending'
      ? `next ${formatRelative(d.next_attempt_at)}`
      : d.last_attempt_at ? formatRelative(d.last_attempt_at) : 'not attempted';
    const row = h('tr', { dataset: { deliveryId: d.delivery_id, status: d.status } });
    const attempts = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-label': `${d.attempts} attempts: show them`,
      onclick: (e) => toggleAttempts(d, row, e.currentTarget) }, String(d.attempts));
    row.append(
      h('td', {}, h('span', { class: `badge status-${d.status}` }, d.status)),
      h('td', { class: 'mono' }, `#${d.seq} `, h('span', { class: 'muted' }, d.event_type)),
      h('td', { class: 'num' }, attempts),
      h('td', { class: 'mono', title: d.last_error ?? '' }, truncate(result, 48)),
      h('td', { class: 'muted' }, when),
      h('td', {}, h('button', { type: 'button', class: 'btn small', 'data-needs': 'admin', onclick: (e) => retry(d, e.currentTarget) }, 'Retry')));
    return row;
  }

  /** The next look: soon while an attempt is due or running, else when the earliest one falls due. */
  function schedule(deliveries) {
    clearTimeout(timer);
    const due = deliveries
      .filter((d) => d.status === 'pending' || d.status === 'retrying')
      .map((d) => (d.next_attempt_at ? new Date(d.next_attempt_at).getTime() - Date.now() : 0));
    if (due.length === 0) return;
    timer = setTimeout(refresh, Math.min(MAX_WAIT_MS, Math.max(IN_FLIGHT_MS, Math.min(...due) + IN_FLIGHT_MS)));
  }

  async function refresh() {
    const mine = ++generation;
    clearTimeout(timer);
    if (!sub) return;
    try {
      const query = new URLSearchParams({ limit: String(SHOWN) });
      if (statusFilter.value) query.set('status', statusFilter.value);
      const id = encodeURIComponent(sub.subscription_id);
      const [fresh, page] = await Promise.all([api(`/subscriptions/${id}`), api(`/subscriptions/${id}/deliveries?${query}`)]);
      if (mine !== generation) return;
      sub = fresh;
      renderHealth();
      notice.hidden = true;
      table.replaceChildren(...page.deliveries.map(deliveryRow));
      empty.textContent = 'No deliveries yet.';
      empty.hidden = page.deliveries.length > 0;
      for (const row of table.querySelectorAll('tr[data-delivery-id]')) {
        if (open.has(row.dataset.deliveryId)) void toggleAttempts(page.deliveries.find((d) => d.delivery_id === row.dataset.deliveryId), row, $('button.link', row));
      }
      schedule(page.deliveries);
    } catch (err) {
      if (mine === generation) fail(err);
    }
  }

  let settle = null;
  const soon = () => {
    clearTimeout(settle);
    settle = setTimeout(refresh, SETTLE_MS);
  };

  /** The subscription's own match as a stream: every event that makes it a delivery arrives here. */
  function follow() {
    const match = JSON.stringify(sub && [sub.subscription_id, sub.event_types, sub.filters, sub.filter, sub.is_active, sub.callback_url]);
    if (stream && match === following) return;
    stream?.close();
    stream = null;
    following = match;
    if (!sub?.is_active || !sub.callback_url) return;
    const params = new URLSearchParams();
    if (sub.event_types.length) params.set('types', sub.event_types.join(','));
    if (sub.filter && Object.keys(sub.filter).length > 0) params.set('filter', JSON.stringify(sub.filter));
    stream = openStream({ params, filters: sub.filters, onEvent: soon, onState: () => {}, onNotice: () => {} });
  }

  async function act(button, fn) {
    button.disabled = true;
    notice.hidden = true;
    try {
      await fn();
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  async function retry(d, button) {
    await act(button, async () => {
      try {
        await api(`/deliveries/${encodeURIComponent(d.delivery_id)}/retry`, { method: 'POST' });
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err; // 409: already running; the refresh shows how it ends
      }
      await refresh();
    });
  }

  const path = () => `/subscriptions/${encodeURIComponent(sub.subscription_id)}`;
  const actions = {
    edit: () => onEdit(sub),
    toggle: async () => {
      await api(path(), { method: 'PATCH', body: { is_active: !sub.is_active } });
      onChanged();
    },
    rotate: async () => {
      const rotated = await api(`${path()}/rotate-secret`, { method: 'POST' });
      showSecret(secretBox, rotated.secret, `The old secret keeps signing until ${formatTime(rotated.previous_valid_until)}.`);
    },
    test: async () => {
      const event = await api('/events', { method: 'POST', body: testEvent(sub) });
      $('.replay-result', section).textContent = `Test event #${event.event.seq} published.`;
      soon();
    },
    delete: async () => {
      if (!confirm(`Delete ${sub.subscriber_name}? Its pending deliveries stop.`)) return;
      await api(path(), { method: 'DELETE' });
      onChanged();
    },
  };
  for (const [name, run] of Object.entries(actions)) {
    const button = $(`[data-action="${name}"]`, section);
    button.addEventListener('click', () => act(button, run));
  }
  replayForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const since = new Date(`${replayForm.elements.namedItem('since').value}Z`);
    act($('button', replayForm), async () => {
      if (Number.isNaN(since.getTime())) throw new Error('Choose the time to replay from.');
      const result = await api(`${path()}/replay`, { method: 'POST', body: { since: since.toISOString() } });
      $('.replay-result', section).textContent = `${result.deliveries_created} deliveries created from ${result.events_scanned} events.`;
      await refresh();
    });
  });
  // A new key: the watcher reconnects with it when the subscriptions reload.
  authEvents.addEventListener('change', () => {
    stream?.close();
    stream = null;
  });
  statusFilter.addEventListener('change', () => void refresh());
  $('[data-action="refresh"]', section).addEventListener('click', () => void refresh());

  return {
    /** Shows `next` (or the reason there is none); a new subscription's secret is passed once. */
    show(next, secret) {
      const changed = next?.subscription_id !== sub?.subscription_id;
      sub = next;
      if (changed) {
        open.clear();
        secretBox.hidden = true;
        table.replaceChildren();
        $('.replay-result', section).textContent = '';
      }
      detail.hidden = !sub;
      title.textContent = sub?.subscriber_name ?? '';
      if (secret) showSecret(secretBox, secret, 'Shown once: store it where the receiver verifies signatures.');
      if (!sub) {
        clearTimeout(timer);
        follow();
        table.replaceChildren();
        empty.textContent = document.body.dataset.admin === 'no'
          ? 'Deliveries need a key with the admin scope.'
          : 'Select a subscription.';
        empty.hidden = false;
        return;
      }
      renderHealth();
      follow();
      void refresh();
    },
  };
}

/** An event the subscription matches: its first type with wildcards filled in, and its filters' values. */
function testEvent(sub) {
  const type = (sub.event_types[0] ?? 'custom').replaceAll('*', 'test');
  const event = { event_type: type, source: 'herald-dashboard', payload: { test: true }, metadata: { test_for: sub.subscription_id } };
  for (const [name, value] of Object.entries(sub.filters)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (!name.startsWith('payload.')) {
      event[name] = first;
      continue;
    }
    const path = name.split('.').slice(1);
    let at = event.payload;
    for (const part of path.slice(0, -1)) at = at[part] ??= {};
    at[path.at(-1)] = first;
  }
  return event;
}
