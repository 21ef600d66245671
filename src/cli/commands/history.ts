import type { HistoryOptions, Priority } from '../../client/index.js';
import { positionals, seqValue, stringValue, UsageError } from '../args.js';
import type { Command } from '../context.js';
import { eventLine } from '../output.js';
import { selection, SELECTION_HELP, SELECTION_OPTIONS } from '../selection.js';
import { parseTime } from '../time.js';

const DEFAULT_LIMIT = 100;
/** The API's largest page. */
const MAX_PAGE = 1000;

export const history: Command = {
  name: 'history',
  summary: 'print stored events, newest first (GET /events)',
  help: `Usage: herald history [options]

Prints stored events, one line each ("seq  time  type  source  payload"), or one JSON object per line with
--json. Newest first, except that --after alone reads forward from that seq (as GET /events does).
Pages through the history with the cursor until --limit events are printed or none are left.

Options:
${SELECTION_HELP}
  --before <seq>           only events older than this seq
  --since <time>, --until <time>
                           event time window, RFC 3339 or a duration ago (15m, 1h, 7d); until is exclusive
  --order <asc|desc>       oldest or newest first
  --limit <n>              print at most n events (default ${DEFAULT_LIMIT})`,
  options: {
    ...SELECTION_OPTIONS,
    before: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    order: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(ctx) {
    const { command, parsed } = ctx;
    positionals(command, parsed.positionals, [], 0);
    const limit = limitValue(stringValue(parsed, 'limit'), command);
    const order = stringValue(parsed, 'order');
    if (order !== undefined && order !== 'asc' && order !== 'desc') throw new UsageError(`--order must be asc or desc, got '${order}'`, command);
    const since = stringValue(parsed, 'since');
    const until = stringValue(parsed, 'until');
    const before = seqValue(parsed, 'before', command);
    const { types, fields, priority, filter, after } = selection(parsed, command);
    const query: HistoryOptions = {
      ...fields,
      limit: Math.min(limit, MAX_PAGE),
      ...(types && { types }),
      ...(priority && { priority: priority as Priority[] }), // Herald validates the names.
      ...(filter && { filter }),
      ...(after !== undefined && { after }),
      ...(before !== undefined && { before }),
      ...(order !== undefined && { order }),
      ...(since !== undefined && { since: parseTime(since, 'since', command) }),
      ...(until !== undefined && { until: parseTime(until, 'until', command) }),
    };
    let printed = 0;
    for await (const event of (await ctx.client()).history(query)) {
      ctx.print(ctx.json ? JSON.stringify(event) : eventLine(event));
      if (++printed >= limit) break;
    }
  },
};

function limitValue(text: string | undefined, command: string): number {
  if (text === undefined) return DEFAULT_LIMIT;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new UsageError(`--limit must be a positive whole number, got '${text}'`, command);
  return Number(text);
}
