import secureJson from 'secure-json-parse';

/**
 * The one rule for JSON that clients send, over HTTP (the application/json body parser) and over the
 * WebSocket (each text message): strict UTF-8, no prototype-poisoning keys (`__proto__`, or `constructor`
 * holding a `prototype` — the actions Fastify's own parser takes), and at most MAX_JSON_DEPTH nested
 * arrays/objects. The depth is checked on the text before parsing, so a deep document costs no parse, and
 * nothing that passes can overflow the stack when it is serialized again.
 */
export const MAX_JSON_DEPTH = 64;

/** How deep payload and metadata objects may nest (the object itself is level 1), by any publish path. */
export const MAX_PAYLOAD_DEPTH = 32;

export class JsonRuleError extends Error {
  readonly code = 'invalid_json';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const POISON = { protoAction: 'error', constructorAction: 'error' } as const;

/** Parses client JSON by the rule above; throws JsonRuleError saying which part of it was broken. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new JsonRuleError('the JSON text is not valid UTF-8');
  }
  if (text.trim() === '') throw new JsonRuleError('the JSON text is empty');
  if (textDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new JsonRuleError(`the JSON text nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return secureJson.parse(text, undefined, POISON);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('forbidden prototype property')) {
      throw new JsonRuleError('the JSON text has a forbidden key: "__proto__", or "constructor" holding a "prototype"');
    }
    throw new JsonRuleError(`the JSON text does not parse: ${message}`);
  }
}

/**
 * Whether arrays/objects in JSON text nest deeper than `limit`. Strings are skipped (a bracket in one is
 * text), so the answer is exact for valid JSON; invalid JSON fails its parse whatever this says.
 */
export function textDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let i = open;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 0x5c /* \ */) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}

/** Whether a parsed value nests arrays/objects deeper than `limit` (a scalar is level 0). */
export function valueDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
