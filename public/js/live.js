// The live list: the newest matching events from history, then the WebSocket from there on (no gap: the
// stream replays after the oldest shown seq), newest on top, with filters and pause.

import { api, ApiError, describeError } from './api.js';
import { $ } from './dom.js';
import { eventRow } from './event-row.js';
import { mountFilters } from './filters.js';
import { openStream } from './stream.js';

const BACKFILL = 50;
const MAX_ROWS = 200;
const MAX_HELD = 5000;

/**
 * rates.record() is called per live arrival; onConnection(state, detail) reports the stream's state;
 * onSeq(seq) the newest seq seen; onEventOpen(event, detailEl) when a row is opened.
 */
export function mountLive(section, { rates, onConnection, onSeq, onEventOpen }) {
  const list = $('.events', section);
  const empty = $('.empty', section);
  const notice = $('.notice', section);
  const pauseButton = $('[data-action="pause"]', section);
  const filters = mountFilters($('form.filters', section), restart);
  let stream = null;
  let generation = 0; // a filter change while the backfill loads must not open a second stream
  let retryTimer = null;
  let paused = false;
  let held = []; // arrived while paused
  let pending = []; // waiting for the next animation frame
  let frame = 0;
  let liveFrom = 0; // seqs up to this were already stored when the list opened: not live arrivals

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function updatePause() {
    pauseButton.textContent = paused ? `Resume${held.length ? ` (${held.length} new)` : ''}` : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(paused));
    section.classList.toggle('paused', paused);
  }

  // Rows are added once per frame, so a burst costs one layout, not one per event.
  function queue(events) {
    pending.push(...events);
    if (pending.length > MAX_ROWS) pending = pending.slice(-MAX_ROWS);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    const fragment = document.createDocumentFragment();
    for (let i = pending.length - 1; i >= 0; i--) fragment.append(eventRow(pending[i], onEventOpen));
    pending = [];
    list.prepend(fragment);
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
    empty.hidden = list.children.length > 0;
  }

  function onEvent(event) {
    if (event.seq > liveFrom) rates.record();
    else rates.count(); // the newest stored events the list opens with: received, but not throughput
    onSeq(event.seq);
    if (!paused) {
      queue([event]);
      return;
    }
    held.push(event);
    if (held.length > MAX_HELD) held.shift();
    updatePause();
  }

  function reset() {
    stream?.close();
    stream = null;
    clearTimeout(retryTimer);
    cancelAnimationFrame(frame);
    frame = 0;
    pending = [];
    held = [];
    list.replaceChildren();
    empty.hidden = false;
    showNotice('');
    updatePause();
  }

  /** Where the stream starts: just before the oldest of the newest BACKFILL matching events. */
  async function startingPoint(params) {
    const query = new URLSearchParams(params);
    query.set('limit', String(BACKFILL));
    const page = await api(`/events?${query}`);
    if (page.events.length > 0) {
      const seqs = page.events.map((e) => e.seq);
      return { after: Math.min(...seqs) - 1, liveFrom: Math.max(...seqs) };
    }
    // Nothing matches yet: stream from the newest seq overall, so nothing committed meanwhile is missed.
    const newest = (await api('/events?limit=1')).events[0]?.seq ?? 0;
    return { after: newest, liveFrom: newest };
  }

  async function restart() {
    const mine = ++generation;
    reset();
    onConnection('connecting');
    const params = filters.params();
    let start;
    try {
      start = await startingPoint(params);
    } catch (err) {
      if (mine !== generation) return;
      showNotice(describeError(err));
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        onConnection('unauthorized', err.message);
      } else if (err instanceof ApiError && err.status === 400) {
        onConnection('failed', err.message);
      } else {
        // Herald down or restarting: try again like the stream's own reconnects would.
        onConnection('reconnecting', 3000);
        retryTimer = setTimeout(restart, 3000);
      }
      return;
    }
    if (mine !== generation) return;
    liveFrom = start.liveFrom;
    stream = openStream({
      params,
      after: start.after,
      onEvent,
      onState: (state, detail) => {
        if (state === 'live') showNotice('');
        onConnection(state, detail);
      },
      onNotice: showNotice,
    });
  }

  pauseButton.addEventListener('click', () => {
    paused = !paused;
    if (!paused) {
      queue(held);
      held = [];
    }
    updatePause();
  });
  $('[data-action="clear"]', section).addEventListener('click', () => {
    list.replaceChildren();
    held = [];
    empty.hidden = false;
    updatePause();
  });

  return { restart };
}
