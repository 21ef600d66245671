import { definedFields, filterValue, listValue, seqValue, stringValue, type OptionSpec, type Parsed } from './args.js';

/** The event fields an option names, for `publish` to set and `tail`/`history` to match. */
export const FIELD_OPTIONS = {
  source: { type: 'string' },
  target: { type: 'string' },
  priority: { type: 'string' },
  'correlation-id': { type: 'string' },
  'workflow-id': { type: 'string' },
  'session-id': { type: 'string' },
} as const satisfies OptionSpec;

/** The options `tail` and `history` share: which events, and the seq to start after. */
export const SELECTION_OPTIONS = {
  types: { type: 'string' },
  ...FIELD_OPTIONS,
  filter: { type: 'string' },
  after: { type: 'string' },
} as const satisfies OptionSpec;

export const SELECTION_HELP = `  --types <a,b>            event types, * wildcards (task_*,system_alert)
  --source <name>, --target <name>
  --priority <p,q>         low, normal, high, critical
  --correlation-id <uuid>, --workflow-id <uuid>, --session-id <uuid>
  --filter '<json>'        a filter-language expression, passed to Herald as is
  --after <seq>            start after this seq`;

export interface Selection {
  types: string[] | undefined;
  /** Field equality filters, named as the API names them. */
  fields: Record<string, string>;
  priority: string[] | undefined;
  filter: Record<string, unknown> | undefined;
  after: number | undefined;
}

/** The string fields given, named as the API names them (priority aside: it is a list when matching). */
export function fieldValues(parsed: Parsed): Record<string, string> {
  const optional = (name: string) => stringValue(parsed, name);
  return definedFields({
    source: optional('source'), target: optional('target'), correlation_id: optional('correlation-id'),
    workflow_id: optional('workflow-id'), session_id: optional('session-id'),
  });
}

export function selection(parsed: Parsed, command: string): Selection {
  return {
    types: listValue(parsed, 'types'),
    fields: fieldValues(parsed),
    priority: listValue(parsed, 'priority'),
    filter: filterValue(parsed, command),
    after: seqValue(parsed, 'after', command),
  };
}
