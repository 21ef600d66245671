// Webhook subscriptions (GET /subscriptions) and the selected one's recent deliveries, with a retry button per
// failed or retrying delivery (POST /deliveries/:id/retry). Admin scope; refreshed while the page is open.

import { api, ApiError, authEvents, describeError } from './api.js';
import { $, formatRelative, h, replace, truncate } from './dom.js';

const DELIVERIES_SHOWN = 25;
/** Refresh quickly while a delivery is on its way (a retry just sent), slowly otherwise. */
const REFRESH_BUSY_MS = 1000;
const REFRESH_IDLE_MS = 5000;

export function mountSubscriptions(listSection, deliveriesSection) {
  const list = $('.subs', listSection);
  const listNotice = $('.notice', listSection);
  const table = $('tbody', deliveriesSection);
  const title = $('.deliveries-title', deliveriesSection);
  const empty = $('.empty', deliveriesSection);
  const notice = $('.notice', deliveriesSection);
  const statusFilter = $('select[name="status"]', deliveriesSection);
  let subscriptions = [];
  let deliveries = [];
  let selected = null;
  let timer = null;
  let generation = 0;

  function showError(el, err) {
    const text = describeError(err);
    if (err instanceof ApiError && err.status === 403) {
      replace(el, text, ' ', h('button', {
        type: 'button', class: 'link',
        onclick: () => authEvents.dispatchEvent(new CustomEvent('required', { detail: err })),
      }, 'Use another key'));
    } else {
      el.textContent = text;
    }
    el.hidden = false;
  }

  function subscriptionItem(sub) {
    const state = !sub.is_active ? ['disabled', 'Disabled'] : sub.failing_since ? ['failing', 'Failing'] : ['active', 'Active'];
    return h('li', { class: `sub${sub.subscription_id === selected ? ' selected' : ''}`, dataset: { subscriptionId: sub.subscription_id } },
      h('button', { type: 'button', onclick: () => select(sub.subscription_id) },
        h('span', { class: 'sub-head' },
          h('strong', {}, sub.subscriber_name),
          h('span', { class: `badge state-${state[0]}` }, state[1])),
        h('span', { class: 'sub-types' },
          sub.event_types.length ? sub.event_types.map((t) => h('code', {}, t)) : h('code', {}, 'all types')),
        Object.keys(sub.filters).length > 0 && h('span', { class: 'sub-filters' },
          Object.entries(sub.filters).map(([name, value]) => h('code', {}, `${name}=${[value].flat().join('|')}`))),
        h('span', { class: 'sub-url', title: sub.callback_url ?? '' }, sub.callback_url ?? 'no callback: stream only'),
        sub.disabled_reason && h('span', { class: 'sub-reason' }, sub.disabled_reason)));
  }

  function deliveryRow(d) {
    const result = d.last_status_code !== null ? `HTTP ${d.last_status_code}` : d.last_error ?? '—';
    const when = d.next_attempt_at && d.status !== 'pending'
      ? `next ${formatRelative(d.next_attempt_at)}`
      : d.last_attempt_at ? formatRelative(d.last_attempt_at) : 'not attempted';
    const canRetry = d.status === 'failed' || d.status === 'retrying';
    return h('tr', { dataset: { deliveryId: d.delivery_id, status: d.status } },
      h('td', {}, h('span', { class: `badge status-${d.status}` }, d.status)),
      h('td', { class: 'mono' }, `#${d.seq} `, h('span', { class: 'muted' }, d.event_type)),
      h('td', { class: 'num' }, String(d.attempts)),
      h('td', { class: 'mono', title: d.last_error ?? '' }, truncate(result, 48)),
      h('td', { class: 'muted' }, when),
      h('td', {}, canRetry && h('button', { type: 'button', class: 'btn small', onclick: (e) => retry(d, e.currentTarget) }, 'Retry')));
  }

  function render() {
    list.replaceChildren(...subscriptions.map(subscriptionItem));
    if (subscriptions.length === 0) {
      list.append(h('li', { class: 'empty' }, 'No subscriptions yet: POST /subscriptions creates one.'));
    }
    const sub = subscriptions.find((s) => s.subscription_id === selected);
    title.textContent = sub ? sub.subscriber_name : '';
    table.replaceChildren(...deliveries.map(deliveryRow));
    empty.textContent = sub ? 'No deliveries.' : 'Select a subscription.';
    empty.hidden = deliveries.length > 0;
  }

  async function refresh() {
    const mine = ++generation;
    clearTimeout(timer);
    timer = null;
    try {
      const found = (await api('/subscriptions')).subscriptions;
      if (mine !== generation) return;
      subscriptions = found;
      listNotice.hidden = true;
      if (!found.some((s) => s.subscription_id === selected)) selected = found[0]?.subscription_id ?? null;
      deliveries = [];
      if (selected) {
        const query = new URLSearchParams({ limit: String(DELIVERIES_SHOWN) });
        if (statusFilter.value) query.set('status', statusFilter.value);
        const page = await api(`/subscriptions/${encodeURIComponent(selected)}/deliveries?${query}`);
        if (mine !== generation) return;
        deliveries = page.deliveries;
      }
      notice.hidden = true;
      render();
    } catch (err) {
      if (mine !== generation) return;
      showError(listNotice, err);
      // Without a usable key, polling again changes nothing; a new key calls refresh().
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return;
    }
    const busy = deliveries.some((d) => d.status === 'pending');
    timer = setTimeout(refresh, busy ? REFRESH_BUSY_MS : REFRESH_IDLE_MS);
  }

  function select(id) {
    selected = id;
    deliveries = [];
    render();
    void refresh();
  }

  async function retry(delivery, button) {
    button.disabled = true;
    button.textContent = 'Retrying…';
    try {
      await api(`/deliveries/${encodeURIComponent(delivery.delivery_id)}/retry`, { method: 'POST' });
    } catch (err) {
      // 409: an attempt is already running; the refresh shows how it ends.
      if (!(err instanceof ApiError && err.status === 409)) {
        showError(notice, err);
        button.disabled = false;
        button.textContent = 'Retry';
        return;
      }
    }
    await refresh();
  }

  statusFilter.addEventListener('change', () => void refresh());
  $('[data-action="refresh"]', deliveriesSection).addEventListener('click', () => void refresh());

  return { reload: refresh };
}
