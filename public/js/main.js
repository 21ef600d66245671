// Wires the panels together: the header's connection status and rates, and a reload of everything when the
// API key changes.

import { authEvents } from './api.js';
import { $ } from './dom.js';
import { mountHistory } from './history.js';
import { mountKeyDialog } from './key-dialog.js';
import { mountLive } from './live.js';
import { createRates } from './rates.js';
import { mountSubscriptions } from './subscriptions.js';

const STATES = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'API key needed',
  failed: 'Disconnected',
};

const connection = $('#connection');
function onConnection(state, detail) {
  connection.dataset.state = state;
  $('.text', connection).textContent = state === 'reconnecting' && typeof detail === 'number'
    ? `Reconnecting in ${Math.ceil(detail / 1000)} s…`
    : STATES[state] ?? state;
  connection.title = typeof detail === 'string' ? detail : '';
}

const lastSeq = $('#last-seq');
let newest = 0;
function onSeq(seq) {
  if (seq <= newest) return;
  newest = seq;
  lastSeq.textContent = String(seq);
}

const rates = createRates({ rateEl: $('#rate'), totalEl: $('#received'), sparkEl: $('#spark'), peakEl: $('#peak') });
mountKeyDialog($('#key-dialog'), $('#key-button'));
const live = mountLive($('#live'), { rates, onConnection, onSeq });
const history = mountHistory($('#history'));
const subscriptions = mountSubscriptions($('#subscriptions'), $('#deliveries'));

function loadAll() {
  void live.restart();
  void history.reload();
  void subscriptions.reload();
}
authEvents.addEventListener('change', loadAll);
loadAll();
