import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { getHeapStatistics } from 'node:v8';
import { unbracket } from '../lib/host-name.js';

export type Scope = 'publish' | 'read' | 'admin';
export interface ApiKey {
  key: string;
  scopes: Scope[];
}

const BYTE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

export function parseBytes(text: string): number {
  const [, digits = '0', unit = ''] = /^(\d+)(\D*)$/.exec(text) ?? [];
  return Number(digits) * (BYTE_UNITS[unit] ?? 1);
}

/** Bytes, or a percentage of V8's heap limit (`90%`). */
export function parseHeapThreshold(text: string): number {
  return text.endsWith('%') ? Math.floor((getHeapStatistics().heap_size_limit * Number(text.slice(0, -1))) / 100) : parseBytes(text);
}

const SCOPE = '(publish|read|admin)';
const API_KEY = `[^:,\\s]+:${SCOPE}(\\+${SCOPE})*`;
export const API_KEYS_PATTERN = `^$|^${API_KEY}(,${API_KEY})*$`;

export function parseApiKeys(text: string): ApiKey[] {
  if (text === '') return [];
  return text.split(',').map((entry) => {
    const [key, scopes] = entry.split(':') as [string, string];
    return { key, scopes: [...new Set(scopes.split('+'))] as Scope[] };
  });
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseAllowHosts(text: string): string[] {
  const allowHosts = text === '' ? [] : text.split(',');
  const badRange = allowHosts.find((entry) => entry.includes('/') && !ipaddr.isValidCIDR(entry));
  if (badRange !== undefined) throw new Error(`${badRange} is not a CIDR range`);
  // An entry with a port (127.0.0.1:9000) or a scheme would never match a target and fail silently.
  const badEntry = allowHosts.find((entry) => !entry.includes('/') && !isIP(unbracket(entry)) && !HOSTNAME.test(entry));
  if (badEntry !== undefined) {
    throw new Error(`${JSON.stringify(badEntry)} is not a hostname, an IP address or a CIDR range (no port or scheme: ports are not part of the rule)`);
  }
  return allowHosts;
}
