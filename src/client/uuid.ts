/**
 * A random (v4) UUID. `crypto.randomUUID` exists in Node 20 and in browsers on secure origins only; a page
 * served over plain http from a LAN address falls back to `getRandomValues`, which every browser has.
 */
export function uuid(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return uuidFromBytes(crypto.getRandomValues(new Uint8Array(16)));
}

/** RFC 9562 layout: version 4 in the 13th hex digit, variant 10xx in the 17th. */
export function uuidFromBytes(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
