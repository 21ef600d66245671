// Webhook subscriptions (GET /subscriptions): the list, and which one the deliveries panel shows. Admin
// scope; a key without it sees why, and no controls it could not use.

import { api, ApiError, authEvents, describeError, setAdmin } from './api.js';
import { $, h, replace } from './dom.js';

/** The health badge: what the subscription resource says about its endpoint. */
export function healthState(sub) {
  if (!sub.is_active) return ['disabled', sub.disabled_reason ? 'Disabled' : 'Paused'];
  // The endpoint's health as Herald reports it (docs/webhooks.md#endpoint-health).
  const state = sub.health?.state;
  if (state === 'circuit_open') return ['failing', 'Circuit open'];
  if (state === 'circuit_half_open') return ['failing', 'Circuit half-open'];
  if (state === 'paused') return ['failing', 'Endpoint paused (Retry-After)'];
  return state === 'failing' || sub.failing_since ? ['failing', 'Failing'] : ['active', 'Active'];
}

/** onSelect(subscription | null): the selection changed, or the selected subscription was reloaded. */
export function mountSubscriptions(section, { onSelect, onNew }) {
  const list = $('.subs', section);
  const notice = $('.notice', section);
  let subscriptions = [];
  let selected = null;
  let generation = 0;

  function showError(err) {
    const text = describeError(err);
    if (err instanceof ApiError && err.status === 403) {
      replace(notice, 'Read-only key: managing subscriptions and deliveries needs the admin scope. ', h('button', {
        type: 'button', class: 'link',
        onclick: () => authEvents.dispatchEvent(new CustomEvent('required', { detail: err })),
      }, 'Use another key'), h('span', { class: 'visually-hidden' }, ` (${text})`));
    } else {
      notice.textContent = text;
    }
    notice.hidden = false;
  }

  function item(sub) {
    const [state, label] = healthState(sub);
    return h('li', { class: `sub${sub.subscription_id === selected ? ' selected' : ''}`, dataset: { subscriptionId: sub.subscription_id } },
      h('button', { type: 'button', 'aria-pressed': String(sub.subscription_id === selected), onclick: () => select(sub.subscription_id) },
        h('span', { class: 'sub-head' },
          h('strong', {}, sub.subscriber_name),
          h('span', { class: `badge state-${state}` }, label)),
        h('span', { class: 'sub-types' },
          sub.event_types.length ? sub.event_types.map((t) => h('code', {}, t)) : h('code', {}, 'all types')),
        Object.keys(sub.filters).length > 0 && h('span', { class: 'sub-filters' },
          Object.entries(sub.filters).map(([name, value]) => h('code', {}, `${name}=${[value].flat().join('|')}`))),
        h('span', { class: 'sub-url', title: sub.callback_url ?? '' }, sub.callback_url ?? 'no callback: stream only')));
  }

  function render() {
    list.replaceChildren(...subscriptions.map(item));
    if (subscriptions.length === 0) list.append(h('li', { class: 'empty' }, 'No subscriptions yet: New subscription creates one.'));
  }

  function current() {
    return subscriptions.find((s) => s.subscription_id === selected) ?? null;
  }

  async function reload() {
    const mine = ++generation;
    try {
      const found = (await api('/subscriptions')).subscriptions;
      if (mine !== generation) return;
      setAdmin(true);
      subscriptions = found;
      notice.hidden = true;
      if (!found.some((s) => s.subscription_id === selected)) selected = found[0]?.subscription_id ?? null;
      render();
      onSelect(current());
    } catch (err) {
      if (mine !== generation) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setAdmin(false);
        subscriptions = [];
        selected = null;
        list.replaceChildren();
        onSelect(null);
      }
      showError(err);
    }
  }

  function select(id) {
    selected = id;
    render();
    onSelect(current());
  }

  $('[data-action="new"]', section).addEventListener('click', onNew);
  return { reload, select, current, list: () => subscriptions };
}
