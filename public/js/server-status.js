// The header's server line: Herald's version and health, the store, and the live feed (GET /health and
// GET /readyz, both public). Checked on load, whenever the stream's connection changes, and every
// CHECK_MS while the page is visible, since a store can fail while the stream stays up.

const CHECK_MS = 15_000;

async function json(path) {
  try {
    const response = await fetch(path, { headers: { accept: 'application/json' } });
    return await response.json();
  } catch {
    return null;
  }
}

export function mountServerStatus(line, versionEl) {
  let timer = null;

  async function check() {
    clearTimeout(timer);
    const [health, ready] = await Promise.all([json('/health'), json('/readyz')]);
    if (!health?.version) {
      line.dataset.state = 'down';
      line.textContent = 'Herald is not answering';
    } else {
      versionEl.textContent = `v${health.version}`;
      const feed = ready?.ready ? 'live feed caught up'
        : ready?.feed_lag !== undefined ? `live feed ${ready.feed_lag} behind` : `live feed: ${ready?.reason ?? 'unknown'}`;
      line.dataset.state = health.status === 'ok' && ready?.ready ? 'ok' : 'degraded';
      line.textContent = `${health.status} · store ${health.store.status} (${health.store.engine}) · ${feed}`;
    }
    if (document.visibilityState !== 'hidden') timer = setTimeout(check, CHECK_MS);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void check();
  });
  void check();
  return { check };
}

