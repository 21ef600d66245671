import { definedFields, filterValue, listValue, seqValue, stringValue, type OptionSpec, type Parsed } from './args.js';

/** The options `tail` and `history` share: which events, and the seq to start after. */
export const SELECTION_OPTIONS = {
  types: { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  priority: { type: 'string' },
  'correlation-id': { type: 'string' },
  'workflow-id': { type: 'string' },
  'session-id': { type: 'string' },
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

export function selection(parsed: Parsed, command: string): Selection {
  const optional = (name: string) => stringValue(parsed, name);
  return {
    types: listValue(parsed, 'types'),
    fields: definedFields({
      source: optional('source'), target: optional('target'), correlation_id: optional('correlation-id'),
      workflow_id: optional('workflow-id'), session_id: optional('session-id'),
    }),
    priority: listValue(parsed, 'priority'),
    filter: filterValue(parsed, command),
    after: seqValue(parsed, 'after', command),
  };
}
