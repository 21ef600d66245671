import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command-line input: the CLI prints the message and the usage hint, and exits 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes; `--url`/`--key` override HERALD_URL/HERALD_KEY. */
export const COMMON_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `util.parseArgs` in strict mode, with its errors turned into a UsageError that names the command. */
export function parseCommand(command: string, args: string[], options: OptionSpec): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // Node's messages name the flag but add advice about '--' that does not apply here.
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    throw new UsageError(message, command);
  }
}

/** The positionals a command takes: at most `max`, at least `required.length`, each required one named. */
export function positionals(command: string, given: string[], required: string[], max: number): string[] {
  if (given.length > max) throw new UsageError(`unexpected argument '${given[max]}'`, command);
  const missing = required[given.length];
  if (missing !== undefined) throw new UsageError(`missing <${missing}>`, command);
  return given;
}

export function stringValue(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A seq cursor: decimal digits, as the API takes them. */
export function seqValue(parsed: Parsed, name: string, command: string): number | undefined {
  const text = stringValue(parsed, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new UsageError(`--${name} must be a seq (a whole number), got '${text}'`, command);
  return Number(text);
}

/** `--filter '<json>'`: a JSON object, checked here so a typo is a usage error rather than a server round trip. */
export function filterValue(parsed: Parsed, command: string): Record<string, unknown> | undefined {
  return jsonObject(stringValue(parsed, 'filter'), '--filter', command);
}

export function jsonObject(text: string | undefined, what: string, command: string): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${err instanceof Error ? err.message : String(err)}`, command);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object`, command);
  return value as Record<string, unknown>;
}

/** `a,b` → ['a', 'b']. */
export function listValue(parsed: Parsed, name: string): string[] | undefined {
  return stringValue(parsed, name)?.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The fields that were given: absent options are left out rather than sent as undefined. */
export function definedFields(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
