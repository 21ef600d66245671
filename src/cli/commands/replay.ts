import { positionals, stringValue, UsageError } from '../args.js';
import type { Command } from '../context.js';
import { parseTime } from '../time.js';

export const replay: Command = {
  name: 'replay',
  summary: "redeliver a time window of events to a webhook subscription (admin)",
  help: `Usage: herald replay <subscription-id> --since <time> [--until <time>]

Creates a new delivery (POST /subscriptions/:id/replay) for every stored event in the window that the
subscription matches now, and prints how many. Times are RFC 3339 (2026-11-01T00:00:00Z) or a duration
ago (15m, 1h, 7d); --until is exclusive and defaults to now. Needs the admin scope.`,
  options: { since: { type: 'string' }, until: { type: 'string' } },
  async run(ctx) {
    const { command, parsed } = ctx;
    const [id] = positionals(command, parsed.positionals, ['subscription-id'], 1) as [string];
    const since = stringValue(parsed, 'since');
    if (since === undefined) throw new UsageError('missing --since <time>', command);
    const until = stringValue(parsed, 'until');
    const result = await (await ctx.client()).subscriptions.replay(id, {
      since: parseTime(since, 'since', command),
      ...(until !== undefined && { until: parseTime(until, 'until', command) }),
    });
    ctx.print(ctx.json ? JSON.stringify(result) : `replayed ${id}: deliveries_created=${result.deliveries_created} events_scanned=${result.events_scanned}`);
  },
};
