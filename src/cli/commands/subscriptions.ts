import { positionals, stringValue } from '../args.js';
import type { Command } from '../context.js';
import { subscriptionTable } from '../output.js';

export const subscriptions: Command = {
  name: 'subscriptions',
  summary: 'list webhook subscriptions (admin)',
  help: `Usage: herald subscriptions [--name <subscriber>]

Lists webhook subscriptions as a table (ID, NAME, STATUS, TYPES, CALLBACK), or one JSON object per line
with --json. Secrets are never shown: Herald returns one only when a subscription is created or its
secret rotated. Needs the admin scope.

Options:
  --name <subscriber>      only this subscriber's subscriptions`,
  options: { name: { type: 'string' } },
  async run(ctx) {
    positionals(ctx.command, ctx.parsed.positionals, [], 0);
    const name = stringValue(ctx.parsed, 'name');
    const list = await (await ctx.client()).subscriptions.list(name === undefined ? {} : { subscriberName: name });
    const lines = ctx.json ? list.map((s) => JSON.stringify(s)) : subscriptionTable(list);
    for (const line of lines) ctx.print(line);
  },
};
