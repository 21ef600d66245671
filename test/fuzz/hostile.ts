/**
 * Hostile inputs: values JSON.stringify cannot spell (raw number text, invalid UTF-8 bytes, own `__proto__`
 * keys, 5,000-level nesting) and mutations that put them into otherwise valid requests and messages.
 */
import fc from 'fast-check';

/** JSON text inserted verbatim: `1e309`, `-0`, `9007199254740993`, a 5,000-level nest. */
export class Raw {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return this.text.length > 60 ? `raw(${this.text.slice(0, 30)}…${this.text.length} chars)` : `raw(${this.text})`;
  }
}

/** Bytes inserted verbatim inside a JSON string literal, e.g. an invalid UTF-8 sequence. */
export class Bytes {
  constructor(readonly bytes: Buffer) {}
  [fc.toStringMethod](): string {
    return `bytes(${this.bytes.toString('hex')})`;
  }
}

/** True when `value` holds bytes that are not UTF-8: such a request must be refused. */
export function hasInvalidUtf8(value: unknown): boolean {
  if (value instanceof Bytes) return true;
  if (value === null || typeof value !== 'object' || value instanceof Raw) return false;
  return Object.values(value).some(hasInvalidUtf8);
}

/** JSON bytes of `value`, with Raw and Bytes spliced in and every own key (`__proto__` too) written. */
export function serialize(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Raw) parts.push(Buffer.from(v.text));
    else if (v instanceof Bytes) parts.push(Buffer.from('"'), v.bytes, Buffer.from('"'));
    else if (Array.isArray(v)) {
      parts.push(Buffer.from('['));
      v.forEach((item, i) => {
        if (i > 0) parts.push(Buffer.from(','));
        walk(item);
      });
      parts.push(Buffer.from(']'));
    } else if (v !== null && typeof v === 'object') {
      parts.push(Buffer.from('{'));
      Object.keys(v).forEach((key, i) => {
        if (i > 0) parts.push(Buffer.from(','));
        parts.push(Buffer.from(`${JSON.stringify(key)}:`));
        walk((v as Record<string, unknown>)[key]);
      });
      parts.push(Buffer.from('}'));
    } else parts.push(Buffer.from(JSON.stringify(v) ?? 'null'));
  };
  walk(value);
  return Buffer.concat(parts);
}

/** An object whose keys are all own properties, `__proto__` included (a literal would set the prototype). */
export function ownObject(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Names that look up something on Object.prototype when used as a key or as a `type`. */
export const PROTOTYPE_NAMES = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__',
] as const;

export const deepNest = (levels: number, leaf = '1') => new Raw(`${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`);
export const deepArray = (levels: number) => new Raw(`${'['.repeat(levels)}${']'.repeat(levels)}`);

export const oddNumber: fc.Arbitrary<unknown> = fc.constantFrom(
  new Raw('-0'), new Raw('1e308'), new Raw('1e309'), new Raw('-1e309'), new Raw('1e-400'), new Raw('9007199254740993'),
  new Raw('0.1e1'), new Raw('123456789012345678901234567890'), -1, 0, 2 ** 31, 2 ** 53, -(2 ** 53), 1.5, Number.MIN_VALUE,
);

export const invalidUtf8: fc.Arbitrary<Bytes> = fc.constantFrom(
  new Bytes(Buffer.from([0xff])), new Bytes(Buffer.from([0xc3, 0x28])), new Bytes(Buffer.from([0xed, 0xa0, 0x80])),
  new Bytes(Buffer.from([0xe2, 0x82])), new Bytes(Buffer.from([0x61, 0xf8, 0x88, 0x80, 0x80, 0x80])), new Bytes(Buffer.from([0xc0, 0xaf])),
);

export const oddString: fc.Arbitrary<unknown> = fc.oneof(invalidUtf8, fc.constantFrom(
  '', ' ', 'x'.repeat(100_000), '\u0000', 'a\u0000b', '\ud800', '\udfff', 'a\ud83d', '\u202eevil', 'e\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦', '\ufeff', 'line\nbreak', '%ff', '..%2f..', '${x}', '<script>', "'; DROP TABLE event; --",
));

/** Any hostile value: wrong types, odd numbers and strings, prototype-keyed and very deep structures. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  oddNumber,
  oddString,
  fc.constantFrom(null, true, [], {}, [[]], [null]),
  fc.constantFrom(...PROTOTYPE_NAMES).map((key) => ownObject([[key, { polluted: true }]])),
  fc.constantFrom(ownObject([['constructor', { prototype: { polluted: true } }]])),
  fc.constantFrom(deepNest(5000), deepArray(5000), deepNest(200), deepNest(64)),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A path into `value` (an object key at each level) to replace, or [] for the value itself. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || value instanceof Raw || value instanceof Bytes) return [prefix];
  const inner = Object.keys(value).flatMap((k) => pathsOf((value as Record<string, unknown>)[k], [...prefix, k]));
  return [prefix, ...inner];
}

function replaceAt(value: unknown, path: string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: unknown = Array.isArray(value) ? [...value] : ownObject(Object.entries(value as object));
  (copy as Record<string, unknown>)[head] = replaceAt((value as Record<string, unknown>)[head], rest, replacement);
  return copy;
}

function addKey(value: unknown, path: string[], key: string, extra: unknown): unknown {
  if (path.length === 0) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Raw || value instanceof Bytes) return value;
    return ownObject([...Object.entries(value), [key, extra]]);
  }
  return replaceAt(value, path, addKey(path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value), [], key, extra));
}

/** `valid` with one of its values (or the whole of it) replaced by a `hostile` one. */
export function inserted(valid: fc.Arbitrary<unknown>, hostile: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return valid.chain((value) => fc.tuple(fc.constantFrom(...pathsOf(value)), hostile).map(([path, bad]) => replaceAt(value, path, bad)));
}

/** `valid` with one hostile change: a value replaced, or a hostile or prototype key added somewhere. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return valid.chain((value) => {
    const paths = pathsOf(value);
    return fc.oneof(
      fc.tuple(fc.constantFrom(...paths), hostileValue).map(([path, bad]) => replaceAt(value, path, bad)),
      fc
        .tuple(fc.constantFrom(...paths), fc.oneof(fc.constantFrom<string>(...PROTOTYPE_NAMES), fc.string({ maxLength: 8 })), hostileValue)
        .map(([path, key, bad]) => addKey(value, path, key, bad)),
    );
  });
}

/** How a number can be spelled in a query string; only plain decimal digits are a number there. */
export const numberSpelling: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 2000 }).map(String),
  fc.constantFrom(
    'Infinity', '-Infinity', 'NaN', 'nan', '-0', '+5', ' 5', '5 ', '0x10', '0o7', '0b1', '1e2', '1e308', '1.0', '.5', '5.',
    '1_000', '9007199254740993', '00010', '', '%ff', '٣', '１', 'null', 'true', '[]',
  ),
);
export const isDecimal = (spelling: string) => /^[0-9]+$/.test(spelling);
