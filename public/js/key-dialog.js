// The API key form. Opens when the API answers 401 (or on demand from the header), keeps the key in
// localStorage via setKey(), which makes every panel reload with it.

import { authEvents, getKey, setKey } from './api.js';
import { $ } from './dom.js';

const MASK_MIN = 16;

export function mountKeyDialog(dialog, headerButton) {
  const form = $('form', dialog);
  const input = $('input[name="key"]', dialog);
  const reason = $('.key-reason', dialog);
  const forget = $('[data-action="forget"]', dialog);

  function label() {
    const key = getKey();
    // The last 4 characters only of a key long enough that they do not give it away.
    headerButton.textContent = !key ? 'Set API key' : key.length >= MASK_MIN ? `Key ••••${key.slice(-4)}` : 'Key ••••';
  }

  function open(message) {
    reason.textContent = message;
    forget.hidden = !getKey();
    if (!dialog.open) {
      input.value = '';
      dialog.showModal();
    }
    input.focus();
  }

  authEvents.addEventListener('required', (event) => {
    const refused = getKey() !== '';
    open(refused
      ? `Herald refused the saved key: ${event.detail.message}`
      : 'This Herald requires an API key (HERALD_API_KEYS). Enter one with the read scope; subscriptions need admin.');
  });
  authEvents.addEventListener('change', label);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    dialog.close();
    setKey(key);
  });
  $('[data-action="cancel"]', dialog).addEventListener('click', () => dialog.close());
  forget.addEventListener('click', () => {
    dialog.close();
    setKey('');
  });
  headerButton.addEventListener('click', () => open('The key is kept in this browser (localStorage) and sent to Herald only.'));
  label();
}
