// Live rates: arrivals counted in one-second buckets; events/s is the mean over the last WINDOW seconds and
// the sparkline shows the last SPAN seconds. Counted on arrival in the browser, so it needs no server clock.

import { h } from './dom.js';

const WINDOW = 10;
const SPAN = 30;

export function createRates({ rateEl, totalEl, sparkEl, peakEl, scaleEl }) {
  const buckets = new Map(); // unix second → events that arrived in it
  const started = Math.floor(Date.now() / 1000);
  let total = 0;
  const bars = Array.from({ length: SPAN }, () => h('span', { class: 'bar' }));
  sparkEl.replaceChildren(...bars);

  function render() {
    const now = Math.floor(Date.now() / 1000);
    for (const second of buckets.keys()) if (second <= now - SPAN) buckets.delete(second);
    // The current second is still filling: average over the last WINDOW whole seconds plus it, but never over
    // time before the page opened.
    const span = Math.max(1, Math.min(WINDOW, now - started + 1));
    let recent = 0;
    for (let s = now - span + 1; s <= now; s++) recent += buckets.get(s) ?? 0;
    rateEl.textContent = (recent / span).toFixed(1);
    totalEl.textContent = total.toLocaleString('en-US');
    const counts = bars.map((_, i) => buckets.get(now - SPAN + 1 + i) ?? 0);
    const peak = Math.max(...counts);
    peakEl.textContent = `peak ${peak}/s`;
    scaleEl.textContent = `${peak}/s`; // the top of the chart: bars are scaled to the 30 s peak
    bars.forEach((bar, i) => {
      // CSSOM writes are allowed under the page's CSP (style attributes in markup are not).
      bar.style.height = counts[i] === 0 ? '0' : `${Math.max(4, (counts[i] / peak) * 100)}%`;
      bar.title = `${counts[i]} events/s`;
    });
  }

  const timer = setInterval(render, 1000);
  render();
  function count() {
    total += 1;
    totalEl.textContent = total.toLocaleString('en-US'); // the count at once; rates on the next tick
  }

  return {
    /** A live arrival: counted and charted. */
    record() {
      const second = Math.floor(Date.now() / 1000);
      buckets.set(second, (buckets.get(second) ?? 0) + 1);
      count();
    },
    /** An event received from the stored backlog: counted, not charted. */
    count,
    render,
    stop: () => clearInterval(timer),
  };
}
