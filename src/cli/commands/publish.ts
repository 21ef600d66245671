import { text } from 'node:stream/consumers';
import type { EventInput } from '../../client/index.js';
import { definedFields, jsonObject, positionals, stringValue } from '../args.js';
import type { Command } from '../context.js';
import { FIELD_OPTIONS, fieldValues } from '../selection.js';

const DEFAULT_SOURCE = 'herald-cli';

export const publish: Command = {
  name: 'publish',
  summary: 'publish one event and print its seq and event_id',
  help: `Usage: herald publish <type> [payload-json | -] [options]

Publishes one event (POST /events) and prints "published <type> seq=<seq> event_id=<id>", or the stored
event with --json. The payload is a JSON object; "-" reads it from stdin. Sending an --event-id Herald
already has prints the stored event again and stores nothing.

Options:
  --source <name>          the event's source (default ${DEFAULT_SOURCE})
  --target <name>          the event's target
  --priority <p>           low | normal | high | critical (default normal)
  --event-id <uuid>        the event's id, for an idempotent retry
  --correlation-id <uuid>, --workflow-id <uuid>, --session-id <uuid>`,
  options: { ...FIELD_OPTIONS, 'event-id': { type: 'string' } },
  async run(ctx) {
    const [eventType, payloadArg] = positionals(ctx.command, ctx.parsed.positionals, ['type'], 2) as [string, string | undefined];
    const payloadText = payloadArg === '-' ? await text(process.stdin) : payloadArg;
    const payload = jsonObject(payloadText, 'the payload', ctx.command);
    const optional = (name: string) => stringValue(ctx.parsed, name);
    const event = {
      event_type: eventType,
      ...fieldValues(ctx.parsed),
      source: optional('source') ?? DEFAULT_SOURCE,
      ...(payload && { payload }),
      ...definedFields({ priority: optional('priority'), event_id: optional('event-id') }),
    } as EventInput; // Herald validates every field and answers 400 naming the bad one.
    const stored = await (await ctx.client()).publish(event);
    ctx.print(ctx.json ? JSON.stringify(stored) : `published ${stored.event_type} seq=${stored.seq} event_id=${stored.event_id}`);
  },
};
