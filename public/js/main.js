// Wires the panels together: the header's connection, server status and rates; subscriptions with their
// deliveries; and a reload of everything when the API key changes.

import { authEvents } from './api.js';
import { mountDeliveries } from './deliveries.js';
import { $ } from './dom.js';
import { showEventDeliveries } from './event-deliveries.js';
import { mountHistory } from './history.js';
import { mountKeyDialog } from './key-dialog.js';
import { mountLive } from './live.js';
import { mountPublish } from './publish.js';
import { createRates } from './rates.js';
import { mountServerStatus } from './server-status.js';
import { mountSubscriptionForm } from './sub-form.js';
import { mountSubscriptions } from './subscriptions.js';

const STATES = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'API key needed',
  failed: 'Disconnected',
};

const server = mountServerStatus($('#server'), $('#version'));
const connection = $('#connection');
function onConnection(state, detail) {
  if (connection.dataset.state !== state) void server.check();
  connection.dataset.state = state;
  $('.text', connection).textContent = state === 'reconnecting' && typeof detail === 'number'
    ? `Reconnecting in ${Math.ceil(detail / 1000)} s…`
    : STATES[state] ?? state;
  connection.title = typeof detail === 'string' ? detail : '';
}

const lastSeq = $('#last-seq');
let newest = 0;
function onSeq(seq) {
  history.follow(seq);
  if (seq <= newest) return;
  newest = seq;
  lastSeq.textContent = String(seq);
}

const rates = createRates({ rateEl: $('#rate'), totalEl: $('#received'), sparkEl: $('#spark'), peakEl: $('#peak'), scaleEl: $('#rates .scale-top') });
mountKeyDialog($('#key-dialog'), $('#key-button'));
mountPublish($('#publish'));
const onEventOpen = (event, detail) => void showEventDeliveries(event, detail, () => subscriptions.list());
const live = mountLive($('#live'), { rates, onConnection, onSeq, onEventOpen });
const history = mountHistory($('#history'), { onEventOpen });
const form = mountSubscriptionForm($('#sub-dialog'), (saved, created) => {
  void subscriptions.reload().then(() => {
    subscriptions.select(saved.subscription_id);
    if (created) deliveries.show(subscriptions.current(), saved.secret);
  });
});
const deliveries = mountDeliveries($('#deliveries'), {
  onChanged: () => void subscriptions.reload(),
  onEdit: (sub) => form.open(sub),
});
const subscriptions = mountSubscriptions($('#subscriptions'), {
  onSelect: (sub) => deliveries.show(sub),
  onNew: () => form.open(null),
});

function loadAll() {
  void live.restart();
  void history.reload();
  void subscriptions.reload();
}
authEvents.addEventListener('change', loadAll);
loadAll();
