// The filter bar shared by the live list and history: the same filters, the same query parameters (types,
// source, priority, and `filter`, the JSON filter language of docs/dashboard.md) for GET /events and for the
// WebSocket.

import { debounce, h } from './dom.js';

const PRIORITIES = ['low', 'normal', 'high', 'critical'];

/**
 * Fills `form` with the filter fields; `onChange` runs after typing pauses or a priority is toggled.
 * Returns params(): URLSearchParams holding only the filters that are set.
 */
export function mountFilters(form, onChange) {
  const changed = debounce(onChange, 300);
  const types = h('input', {
    type: 'search', name: 'types', placeholder: 'task_*, system_alert', autocomplete: 'off', spellcheck: 'false',
    'aria-label': 'Event types (comma list, * wildcards)', oninput: changed,
  });
  const source = h('input', {
    type: 'search', name: 'source', placeholder: 'any source', autocomplete: 'off', spellcheck: 'false',
    'aria-label': 'Source', oninput: changed,
  });
  const filter = h('input', {
    type: 'search', name: 'filter', placeholder: '{"payload.progress": {"$gte": 50}}', autocomplete: 'off', spellcheck: 'false',
    'aria-label': 'Filter (JSON: $eq $ne $in $nin $gt $gte $lt $lte $exists $prefix, $and $or $not)', oninput: changed,
  });
  const toggled = (e) => {
    // At least one priority stays selected: none at all would match nothing, surely a slip.
    if (!chips.some((chip) => chip.querySelector('input').checked)) e.target.checked = true;
    else onChange();
  };
  const chips = PRIORITIES.map((priority) =>
    h('label', { class: `chip prio-${priority}` },
      h('input', { type: 'checkbox', name: 'priority', value: priority, checked: true, onchange: toggled }),
      priority));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    onChange();
  });
  form.replaceChildren(
    h('label', { class: 'field' }, h('span', {}, 'Types'), types),
    h('label', { class: 'field' }, h('span', {}, 'Source'), source),
    h('label', { class: 'field' }, h('span', {}, 'Filter (JSON)'), filter),
    h('fieldset', { class: 'chips' }, h('legend', {}, 'Priority'), chips),
  );

  return {
    params() {
      const params = new URLSearchParams();
      const typeList = types.value.split(',').map((t) => t.trim()).filter(Boolean);
      if (typeList.length > 0) params.set('types', typeList.join(','));
      if (source.value.trim()) params.set('source', source.value.trim());
      const checked = chips.map((chip) => chip.querySelector('input')).filter((input) => input.checked).map((input) => input.value);
      if (checked.length < PRIORITIES.length) params.set('priority', checked.join(','));
      // Only a JSON object is sent; anything else is marked and left out until it parses.
      const text = filter.value.trim();
      let parsed = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = undefined;
      }
      const valid = parsed === null || (typeof parsed === 'object' && !Array.isArray(parsed));
      if (valid) filter.removeAttribute('aria-invalid');
      else filter.setAttribute('aria-invalid', 'true');
      if (valid && parsed) params.set('filter', JSON.stringify(parsed));
      return params;
    },
  };
}
