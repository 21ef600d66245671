import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { unbracket } from './host-name.js';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms — the addresses protected mode serves. */
export function isLoopback(address: string | undefined): boolean {
  if (!address || isIP(address) === 0) return false;
  return ipaddr.process(address).range() === 'loopback';
}

/**
 * True for a host name only this machine can answer to: `localhost` and `*.localhost` (reserved for
 * loopback, RFC 6761, and resolved so by browsers without asking DNS), and loopback literals. A page on
 * any other name could have had its DNS re-pointed at 127.0.0.1 after it loaded (DNS rebinding).
 */
export function isLoopbackName(hostname: string): boolean {
  const name = unbracket(hostname.toLowerCase());
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}

/**
 * True for a Host header (name or literal, any port) that names this machine's loopback. Odd IPv4
 * spellings (127.1, 0x7f.1) are read the way a browser's URL parser reads them.
 */
export function isLoopbackHost(host: string): boolean {
  // Only a bare host and port: anything URL-shaped (user@, /path) could smuggle another name through.
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(host)) return false;
  try {
    return isLoopbackName(new URL(`http://${host}/`).hostname);
  } catch {
    return false;
  }
}
