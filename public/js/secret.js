// A signing secret, shown once with a copy button; it is never stored or shown again by the page.

import { h } from './dom.js';

export function showSecret(box, secret, note) {
  const value = h('code', { class: 'secret-value' }, secret);
  const status = h('span', { class: 'muted', role: 'status' });
  const copy = h('button', { type: 'button', class: 'btn small', onclick: async () => {
    try {
      await navigator.clipboard.writeText(secret);
      status.textContent = 'Copied.';
    } catch {
      getSelection()?.selectAllChildren(value); // no clipboard (plain http): select it for Ctrl+C
      status.textContent = 'Selected: press Ctrl+C.';
    }
  } }, 'Copy secret');
  const hide = h('button', { type: 'button', class: 'btn small ghost', onclick: () => { box.hidden = true; box.replaceChildren(); } }, 'Done');
  box.replaceChildren(h('p', {}, h('strong', {}, 'Signing secret: '), note), value, h('div', { class: 'form-actions' }, status, copy, hide));
  box.hidden = false;
}
