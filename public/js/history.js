// History: GET /events pages, newest first. Older follows next_cursor (before=); Newer reads forward from
// the newest seq shown (after= with order=asc) — the cursors README.md "History" describes.

import { api, describeError } from './api.js';
import { $ } from './dom.js';
import { eventRow } from './event-row.js';
import { mountFilters } from './filters.js';

export function mountHistory(section) {
  const list = $('.events', section);
  const empty = $('.empty', section);
  const notice = $('.notice', section);
  const info = $('.page-info', section);
  const size = $('select[name="limit"]', section);
  const buttons = {
    newest: $('[data-action="newest"]', section),
    newer: $('[data-action="newer"]', section),
    older: $('[data-action="older"]', section),
  };
  const filters = mountFilters($('form.filters', section), () => load({}));
  let olderCursor = null;
  let atNewest = true;
  let shown = [];
  let generation = 0;

  function query(extra) {
    const params = filters.params();
    params.set('limit', size.value);
    for (const [name, value] of Object.entries(extra)) params.set(name, String(value));
    return params;
  }

  function render(events) {
    shown = events;
    list.replaceChildren(...events.map(eventRow));
    empty.hidden = events.length > 0;
    info.textContent = events.length
      ? `seq ${events[0].seq} – ${events.at(-1).seq} · ${events.length} event${events.length === 1 ? '' : 's'}`
      : 'no events';
    buttons.older.disabled = olderCursor === null;
    buttons.newer.disabled = atNewest;
  }

  /** direction: {} the newest page, { before } an older one, { after } the page just newer than a seq. */
  async function load(direction) {
    const mine = ++generation;
    notice.hidden = true;
    try {
      if (direction.after === undefined) {
        const page = await api(`/events?${query(direction.before === undefined ? {} : { before: direction.before })}`);
        if (mine !== generation) return;
        olderCursor = page.next_cursor;
        atNewest = direction.before === undefined;
        render(page.events);
        return;
      }
      const page = await api(`/events?${query({ after: direction.after, order: 'asc' })}`);
      if (mine !== generation) return;
      if (page.next_cursor === null || page.events.length === 0) {
        // Reached the head (or a rare filter found nothing newer in one scan): show the newest full page.
        await load({});
        return;
      }
      olderCursor = String(page.events[0].seq);
      atNewest = false;
      render(page.events.reverse());
    } catch (err) {
      if (mine !== generation) return;
      notice.textContent = describeError(err);
      notice.hidden = false;
    }
  }

  buttons.newest.addEventListener('click', () => load({}));
  buttons.older.addEventListener('click', () => load({ before: olderCursor }));
  buttons.newer.addEventListener('click', () => load({ after: shown[0]?.seq ?? 0 }));
  size.addEventListener('change', () => load({}));

  return { reload: () => load({}) };
}
