// The live stream, as any client uses it (docs/websocket.md): one query subscription per socket, so the last
// seq received is a safe cursor; reconnect with exponential backoff and jitter, resuming with after=<seq>.

import { api, ApiError, getKey } from './api.js';

/** Close codes that say "do not reconnect" (docs/websocket.md). */
const isFatal = (code) => (code >= 4500 && code <= 4999) || code === 1008 || code === 1009;

/**
 * Opens the stream for `params` (types, source, priority …) from `after`.
 * onState(state, detail): 'connecting' | 'live' | 'reconnecting' (detail: ms until the attempt) |
 * 'unauthorized' (waits for a new key) | 'failed' (detail: reason; gives up).
 * onNotice(text): server error frames worth showing (a purged cursor).
 */
export function openStream({ params, after, onEvent, onState, onNotice }) {
  let lastSeq = after;
  let attempt = 0;
  let ws = null;
  let timer = null;
  let stopped = false;

  function url() {
    const query = new URLSearchParams(params);
    query.set('after', String(lastSeq));
    const key = getKey();
    if (key) query.set('token', key); // browsers cannot set headers on a WebSocket
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/events?${query}`;
  }

  function open() {
    onState('connecting');
    const openedAt = Date.now();
    let opened = false;
    ws = new WebSocket(url());
    ws.onopen = () => {
      opened = true;
      onState('live');
    };
    ws.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if ('type' in frame) {
        // Without message ids only errors arrive as control frames.
        if (frame.code === 'cursor_expired') {
          onNotice(`Events after seq ${lastSeq} up to ${frame.oldest_seq} were purged before they could be shown.`);
        } else if (frame.message) {
          onNotice(frame.message);
        }
        return;
      }
      if (typeof frame.seq !== 'number' || frame.seq <= lastSeq) return; // never show an event twice
      lastSeq = frame.seq;
      attempt = 0;
      onEvent(frame);
    };
    ws.onclose = (event) => {
      ws = null;
      if (stopped) return;
      if (isFatal(event.code)) {
        onState('failed', `closed by Herald: ${event.code} ${event.reason}`.trim());
        return;
      }
      if (!opened) {
        // A refused upgrade reaches a browser only as 1006: ask over HTTP whether the key is the problem.
        void diagnose();
        return;
      }
      if (Date.now() - openedAt > 30_000) attempt = 0; // a long-lived socket resets the backoff
      schedule();
    };
  }

  async function diagnose() {
    try {
      const probe = new URLSearchParams(params);
      probe.set('limit', '1');
      await api(`/events?${probe}`);
    } catch (err) {
      if (stopped) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        onState('unauthorized', err.message); // the key dialog is up; a new key restarts the stream
        return;
      }
      if (err instanceof ApiError && err.status === 400) {
        onState('failed', err.message);
        return;
      }
    }
    if (!stopped) schedule();
  }

  function schedule() {
    const ceiling = Math.min(30_000, 500 * 2 ** attempt);
    attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    onState('reconnecting', delay);
    timer = setTimeout(open, delay);
  }

  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      ws?.close(1000);
    },
  };
}
