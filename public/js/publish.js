// The publish form: one JSON event to POST /events, with Herald's schema errors listed under it.

import { api, describeError, fieldErrors } from './api.js';
import { $, h } from './dom.js';

export function mountPublish(section) {
  const form = $('form', section);
  const input = $('textarea', form);
  const errors = $('.errors', form);
  const result = $('.result', form);

  function show(lines) {
    errors.replaceChildren(...lines.map((line) => h('li', {}, line)));
    if (lines.length) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.textContent = '';
    let event;
    try {
      event = JSON.parse(input.value);
    } catch (err) {
      show([`Not JSON: ${err.message}`]);
      return;
    }
    const submit = $('button[type="submit"]', form);
    submit.disabled = true;
    try {
      const stored = (await api('/events', { method: 'POST', body: event })).event;
      show([]);
      result.textContent = `Stored as #${stored.seq}.`;
    } catch (err) {
      const byField = fieldErrors(err);
      show(byField.size ? [describeError(err), ...[...byField.values()].flat()] : [describeError(err)]);
    } finally {
      submit.disabled = false;
    }
  });
}
