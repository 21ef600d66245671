// History: GET /events pages, newest first. Older follows next_cursor (before=); Newer reads forward from
// the newest seq shown (after= with order=asc) — the cursors README.md "History" describes. On the newest
// page it follows the live stream; the search finds one event_id or everything of a correlation, workflow
// or session.

import { api, ApiError, describeError } from './api.js';
import { $, debounce } from './dom.js';
import { eventRow } from './event-row.js';
import { mountFilters } from './filters.js';

const FOLLOW_MS = 300;

export function mountHistory(section, { onEventOpen } = {}) {
  const list = $('.events', section);
  const empty = $('.empty', section);
  const notice = $('.notice', section);
  const info = $('.page-info', section);
  const size = $('select[name="limit"]', section);
  const search = $('form.search', section);
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
    const id = search.elements.namedItem('id').value.trim();
    const by = search.elements.namedItem('by').value;
    if (id && by !== 'event_id') params.set(by, id);
    for (const [name, value] of Object.entries(extra)) params.set(name, String(value));
    return params;
  }

  function render(events) {
    shown = events;
    list.replaceChildren(...events.map((event) => eventRow(event, onEventOpen)));
    empty.hidden = events.length > 0;
    info.textContent = events.length
      ? `seq ${events[0].seq} – ${events.at(-1).seq} · ${events.length} event${events.length === 1 ? '' : 's'}`
      : 'no events';
    buttons.older.disabled = olderCursor === null;
    buttons.newer.disabled = atNewest;
  }

  async function findOne(id) {
    try {
      const event = await api(`/events/${encodeURIComponent(id)}`);
      olderCursor = null;
      atNewest = false;
      render([event]);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      olderCursor = null;
      render([]);
      info.textContent = `no event ${id}`;
    }
  }

  /** direction: {} the newest page, { before } an older one, { after } the page just newer than a seq. */
  async function load(direction) {
    const mine = ++generation;
    notice.hidden = true;
    try {
      const id = search.elements.namedItem('id').value.trim();
      if (id && search.elements.namedItem('by').value === 'event_id') {
        await findOne(id);
        return;
      }
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

  const follow = debounce(() => {
    if (atNewest) void load({});
  }, FOLLOW_MS);

  buttons.newest.addEventListener('click', () => load({}));
  buttons.older.addEventListener('click', () => load({ before: olderCursor }));
  buttons.newer.addEventListener('click', () => load({ after: shown[0]?.seq ?? 0 }));
  size.addEventListener('change', () => load({}));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    void load({});
  });
  search.elements.namedItem('targeted').addEventListener('change', (e) => list.classList.toggle('hide-targeted', !e.target.checked));

  return {
    reload: () => load({}),
    /** A newer event exists (seen on the live stream): the newest page shows it. */
    follow: (seq) => {
      if (seq > (shown[0]?.seq ?? 0)) follow();
    },
  };
}
