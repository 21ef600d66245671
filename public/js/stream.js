// The live stream through the client SDK that Herald serves at /client/ (docs/client.md): its reconnect,
// backoff, heartbeat and resume-after-the-last-seq are the ones every client uses. This file only translates
// the page's filters into a subscription and the SDK's states into the header's.

import { HeraldClient } from '/client/index.js';
import { authEvents, getKey } from './api.js';

const PRIORITIES = 4;

/** The filter bar's query parameters (types, source, priority) as the SDK's subscribe options. */
function subscription(params, after, extra) {
  const filters = { ...extra };
  if (params.get('source')) filters.source = params.get('source');
  const priority = params.get('priority')?.split(',').filter(Boolean) ?? [];
  if (priority.length > 0 && priority.length < PRIORITIES) filters.priority = priority;
  const eventTypes = params.get('types')?.split(',').filter(Boolean) ?? [];
  // The JSON filter language rides in the subscribe message as `filter` (docs/dashboard.md).
  const filter = params.get('filter');
  return { eventTypes, ...(Object.keys(filters).length > 0 && { filters }), ...(filter && { filter: JSON.parse(filter) }), after };
}

/**
 * Opens the stream for `params` (plus `filters`, a subscription's own) from `after` (absent: from now). onState(state, detail): 'connecting' | 'live' |
 * 'reconnecting' (detail: ms until the attempt) | 'unauthorized' (waits for a new key) | 'failed' (detail:
 * reason). onNotice(text): gaps worth showing (a purged cursor).
 */
export function openStream({ params, filters, after, onEvent, onState, onNotice }) {
  const key = getKey();
  const client = new HeraldClient({ baseUrl: location.origin, ...(key && { apiKey: key }) });
  return client.subscribe({
    ...subscription(params, after, filters),
    onStateChange(state, info) {
      if (state === 'open') onState('live');
      else if (state === 'reconnecting') onState('reconnecting', info.delayMs);
      else if (state === 'connecting') onState('connecting');
      else if (info.error) closed(info.error);
    },
    onGap(gap) {
      onNotice(gap.code === 'cursor_expired'
        ? `Events after seq ${gap.after} up to ${gap.resumedFrom} were purged before they could be shown.`
        : `The stream restarted from seq ${gap.resumedFrom}: Herald's database is not the one this page was reading.`);
    },
    onError: (error) => onNotice(error.message),
  }, onEvent);

  function closed(error) {
    if (error.status === 401 || error.status === 403) {
      onState('unauthorized', error.message);
      if (error.status === 401) authEvents.dispatchEvent(new CustomEvent('required', { detail: error }));
      return;
    }
    onState('failed', error.message);
  }
}
