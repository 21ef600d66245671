import type { Priority, StreamFilters } from '../../client/index.js';
import { positionals } from '../args.js';
import type { Command } from '../context.js';
import { eventLine } from '../output.js';
import { selection, SELECTION_HELP, SELECTION_OPTIONS } from '../selection.js';

/** Someone watching a terminal wants it back soon after the server is: at most 5 s between attempts. */
const RECONNECT = { initialDelayMs: 250, maxDelayMs: 5_000 };

export const tail: Command = {
  name: 'tail',
  summary: 'stream events live; reconnects and resumes after a disconnect',
  help: `Usage: herald tail [options]

Streams matching events as they are published, one line each ("seq  time  type  source  payload"), or one
JSON object per line with --json, until Ctrl-C (exit 0). Without --after it starts from now. A dropped
connection is retried with backoff (at most 5 s apart) and resumes after the last seq printed: no gap, no duplicate.
Connection news goes to stderr. Like every stream subscription, it shows untargeted events only unless
--target names one.

Options:
${SELECTION_HELP}`,
  options: SELECTION_OPTIONS,
  async run(ctx) {
    positionals(ctx.command, ctx.parsed.positionals, [], 0);
    const { types, fields, priority, filter, after } = selection(ctx.parsed, ctx.command);
    const filters = { ...fields, ...(priority && { priority: priority as Priority[] }) } as StreamFilters;
    const client = await ctx.client();
    return new Promise<number>((resolve, reject) => {
      const stream = client.subscribe({
        ...(types && { eventTypes: types }),
        ...(Object.keys(filters).length > 0 && { filters }),
        ...(filter && { filter }),
        ...(after !== undefined && { after }),
        reconnect: RECONNECT,
        onStateChange: (state, info) => {
          if (state === 'open') ctx.note(`streaming from ${ctx.url} after seq ${stream.lastSeq ?? 0}`);
          if (state === 'reconnecting') {
            const delay = `${Math.round(info.delayMs ?? 0)} ms`;
            const code = info.closeCode === undefined ? '' : ` (close ${info.closeCode})`;
            ctx.note(info.attempt <= 1 ? `disconnected${code}; reconnecting in ${delay}` : `reconnect attempt ${info.attempt - 1} failed; retrying in ${delay}`);
          }
          if (state === 'closed' && info.error) {
            stop();
            reject(info.error);
          }
        },
        onGap: (gap) => ctx.note(`${gap.code}: events after seq ${gap.after} up to ${gap.resumedFrom - 1} were not received`),
        onError: () => undefined, // The error that ends the stream arrives with the 'closed' state above.
      }, (event) => ctx.print(ctx.json ? JSON.stringify(event) : eventLine(event)));
      const interrupted = () => {
        stop();
        stream.close();
        resolve(0);
      };
      const stop = () => {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
      };
      process.on('SIGINT', interrupted);
      process.on('SIGTERM', interrupted);
    });
  },
};
