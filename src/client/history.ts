import type { HttpClient } from './http.js';
import type { HeraldEvent, HistoryOptions, HistoryPage } from './types.js';

/** The order Herald reads in when none is given: newest first, except that a lone `after` reads forward. */
function orderOf(options: HistoryOptions): 'asc' | 'desc' {
  return options.order ?? (options.after !== undefined && options.before === undefined ? 'asc' : 'desc');
}

export function historyPage(http: HttpClient, options: HistoryOptions): Promise<HistoryPage> {
  const { filter, ...rest } = options;
  return http.request<HistoryPage>('GET', '/events', { query: { ...rest, ...(filter !== undefined && { filter: JSON.stringify(filter) }) } });
}

/**
 * Every matching event, page after page. The order is fixed on the first request and sent explicitly on each
 * page, so moving the cursor (which adds `before` or `after`) cannot flip it.
 */
export async function* iterateHistory(http: HttpClient, options: HistoryOptions): AsyncGenerator<HeraldEvent, void, undefined> {
  const order = orderOf(options);
  let query: HistoryOptions = { ...options, order };
  for (;;) {
    const page = await historyPage(http, query);
    yield* page.events;
    if (page.next_cursor === null) return;
    query = order === 'asc' ? { ...query, after: page.next_cursor } : { ...query, before: page.next_cursor };
  }
}
