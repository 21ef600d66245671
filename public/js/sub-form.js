// The create/edit dialog for a subscription (POST /subscriptions, PATCH /subscriptions/:id). Herald's
// validation errors are shown next to the form; an SSRF refusal says which setting allows private targets.

import { api, ApiError, describeError, fieldErrors } from './api.js';
import { $, h } from './dom.js';

const SSRF_HINT = 'Herald refuses callbacks to loopback and private addresses unless HERALD_WEBHOOK_ALLOW_PRIVATE=true '
  + 'or the host is listed in HERALD_WEBHOOK_ALLOW_HOSTS (docs/webhooks.md).';

/** onSaved(subscription, created): after a successful save; a created subscription carries its secret. */
export function mountSubscriptionForm(dialog, onSaved) {
  const form = $('form', dialog);
  const title = $('h2', dialog);
  const errors = $('.errors', dialog);
  const field = (name) => form.elements.namedItem(name);
  let editing = null;

  function showErrors(lines) {
    errors.replaceChildren(...lines.map((line) => h('li', {}, line)));
    for (const input of form.querySelectorAll('input, textarea')) input.removeAttribute('aria-invalid');
  }

  function open(subscription) {
    editing = subscription ?? null;
    title.textContent = editing ? `Edit ${editing.subscriber_name}` : 'New subscription';
    field('subscriber_name').value = editing?.subscriber_name ?? '';
    field('callback_url').value = editing?.callback_url ?? '';
    field('event_types').value = editing?.event_types.join(', ') ?? '';
    field('filters').value = JSON.stringify(editing?.filters ?? {});
    field('filter').value = JSON.stringify(editing?.filter ?? {});
    field('format').value = editing?.format ?? 'seed';
    field('is_active').checked = editing?.is_active ?? true;
    showErrors([]);
    dialog.showModal();
    field('subscriber_name').focus();
  }

  /** The JSON in textarea `name`; a parse error is shown inline like the server's validation errors. */
  function json(name, label) {
    try {
      return JSON.parse(field(name).value.trim() || '{}');
    } catch (err) {
      throw new ApiError(400, 'invalid_json', `${label}: ${err.message}`, [{ path: `/${name}`, message: 'is not valid JSON' }]);
    }
  }

  function body() {
    const filters = json('filters', 'Filters');
    const filter = json('filter', 'Filter');
    return {
      subscriber_name: field('subscriber_name').value.trim(),
      callback_url: field('callback_url').value.trim() || null,
      event_types: field('event_types').value.split(',').map((t) => t.trim()).filter(Boolean),
      filters,
      filter,
      format: field('format').value,
      is_active: field('is_active').checked,
    };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = $('button[type="submit"]', form);
    submit.disabled = true;
    try {
      const input = body();
      const saved = editing
        ? await api(`/subscriptions/${encodeURIComponent(editing.subscription_id)}`, { method: 'PATCH', body: input })
        : await api('/subscriptions', { method: 'POST', body: input });
      dialog.close();
      onSaved(saved, !editing);
    } catch (err) {
      const byField = fieldErrors(err);
      showErrors(byField.size ? [...byField.values()].flat() : [describeError(err)]);
      if (err instanceof ApiError && err.code === 'unsafe_callback_url') {
        errors.append(h('li', {}, SSRF_HINT));
        byField.set('callback_url', []);
      }
      for (const name of byField.keys()) field(name)?.setAttribute('aria-invalid', 'true');
    } finally {
      submit.disabled = false;
    }
  });
  $('[data-action="cancel"]', dialog).addEventListener('click', () => dialog.close());

  return { open };
}
