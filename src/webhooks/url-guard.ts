import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { unbracket } from '../lib/host-name.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * How far a webhook target address is trusted:
 * - `public`: a global unicast address; always allowed.
 * - `private`: loopback, private, unique-local, CGNAT, reserved, multicast, …; allowed by
 *   HERALD_WEBHOOK_ALLOW_PRIVATE or by any HERALD_WEBHOOK_ALLOW_HOSTS entry that matches it.
 * - `guarded`: link-local, cloud metadata and IPv6 tunnel forms; allowed only by a HERALD_WEBHOOK_ALLOW_HOSTS
 *   address or range that contains it (a metadata address only by itself), never by the switch or a hostname.
 */
export type Tier = 'public' | 'private' | 'guarded';

export interface Classification {
  tier: Tier;
  /** ipaddr.js's name for the range (`unicast`, `loopback`, `linkLocal`, `6to4`, …) or ours. */
  range: string;
}

/** Cloud instance-metadata endpoints (AWS, GCP, Azure, Oracle; AWS over IPv6; Alibaba): credentials live there. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
/** NAT64's well-known prefix: DNS64 presents IPv4-only hosts as 64:ff9b::a.b.c.d on IPv6-only networks. */
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

/** Parses a v4 or v6 address as the kernel would connect to it; null for anything else. */
function parseAddress(text: string): Address | null {
  const plain = unbracket(text).replace(/%.*$/, '');
  const family = isIP(plain);
  if (family === 4) return ipaddr.IPv4.parse(plain);
  if (family !== 6) return null;
  // ipaddr.js reads `::a.b.c.d` as IPv4-mapped; the kernel reads it as IPv4-compatible. WHATWG URL
  // serialisation writes every IPv6 address in hex, which both read alike.
  return ipaddr.IPv6.parse(new URL(`http://[${plain}]/`).hostname.slice(1, -1));
}

function classifyParsed(ip: Address): Classification {
  if (METADATA.has(ip.toString())) return { tier: 'guarded', range: 'cloudMetadata' };
  const range = ip.range();
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    // A dual-stack socket connects ::ffff:a.b.c.d to a.b.c.d, and NAT64 translates to it: judge that address.
    if (range === 'ipv4Mapped' || v6.match(NAT64)) return classifyParsed(ipaddr.fromByteArray(v6.toByteArray().slice(12)));
    // The other forms that carry an IPv4 address (deprecated or reached through a relay) are refused outright.
    if (range === 'unicast' && v6.parts.slice(0, 6).every((part) => part === 0)) return { tier: 'guarded', range: 'ipv4Compatible' };
    if (['6to4', 'teredo', 'rfc6052', 'rfc6145'].includes(range)) return { tier: 'guarded', range };
  }
  if (range === 'unicast') return { tier: 'public', range };
  return { tier: range === 'linkLocal' ? 'guarded' : 'private', range };
}

const NOT_AN_ADDRESS: Classification = { tier: 'private', range: 'notAnAddress' };

/** Classifies an address by the ranges ipaddr.js names; anything that is not an address is `private`. */
export function classifyAddress(address: string): Classification {
  const ip = parseAddress(address);
  return ip === null ? NOT_AN_ADDRESS : classifyParsed(ip);
}

export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export class UnsafeUrlError extends Error {}

/** Which targets a webhook may reach: everything public, plus private ones by switch or by allow-list. */
export interface UrlPolicy {
  allowPrivate: boolean;
  /** HERALD_WEBHOOK_ALLOW_HOSTS: hostnames, addresses and CIDR ranges allowed even when private. */
  allowHosts?: readonly string[];
  /** Resolves hostnames at registration and at connect time; the system resolver unless given. */
  lookup?: Lookup;
}

interface AllowList {
  hosts: Set<string>;
  addresses: Set<string>;
  ranges: Array<[Address, number]>;
}

/** Parsed once per allow-list (a policy keeps its array), not on every check of a private address. */
const parsedAllowLists = new WeakMap<readonly string[], AllowList>();

function allowList(entries: readonly string[]): AllowList {
  const cached = parsedAllowLists.get(entries);
  if (cached) return cached;
  const list: AllowList = { hosts: new Set(), addresses: new Set(), ranges: [] };
  for (const entry of entries) {
    if (entry.includes('/')) {
      list.ranges.push(ipaddr.parseCIDR(entry));
      continue;
    }
    const address = parseAddress(entry);
    if (address) list.addresses.add(ipaddr.process(address.toString()).toString());
    else list.hosts.add(entry.toLowerCase());
  }
  parsedAllowLists.set(entries, list);
  return list;
}

/** Whether an allow-list entry lets `address` through: by hostname, by the address itself, or by a range. */
function allowedBy(list: AllowList, host: string, ip: Address | null, tier: Tier, range: string): boolean {
  if (ip === null) return tier !== 'guarded' && list.hosts.has(host.toLowerCase());
  const plain = ipaddr.process(ip.toString());
  if (list.addresses.has(plain.toString())) return true;
  // A metadata address must be listed itself; a range that happens to contain it does not count.
  if (range === 'cloudMetadata') return false;
  if (list.ranges.some(([net, bits]) => net.kind() === plain.kind() && plain.match(net, bits))) return true;
  // DNS can re-point a listed name, so a name never unlocks link-local, metadata or tunnel addresses.
  return tier !== 'guarded' && list.hosts.has(host.toLowerCase());
}

const NO_HOSTS: readonly string[] = [];

/** The address check both at registration and at connect time; null when allowed, else the reason. */
export function addressRefusal(policy: UrlPolicy, host: string, address: string): string | null {
  const ip = parseAddress(address);
  const { tier, range } = ip === null ? NOT_AN_ADDRESS : classifyParsed(ip);
  if (tier === 'public' || (tier === 'private' && policy.allowPrivate)) return null;
  if (allowedBy(allowList(policy.allowHosts ?? NO_HOSTS), host, ip, tier, range)) return null;
  const where = `callback_url ${host} resolves to ${address}`;
  return tier === 'private'
    ? `${where}, a loopback/private/reserved address (${range}); list it in HERALD_WEBHOOK_ALLOW_HOSTS (e.g. HERALD_WEBHOOK_ALLOW_HOSTS=${host}) or set HERALD_WEBHOOK_ALLOW_PRIVATE=true to allow it`
    : `${where}, a link-local, cloud-metadata or IPv4-tunnel address (${range}); it is refused even with HERALD_WEBHOOK_ALLOW_PRIVATE=true unless HERALD_WEBHOOK_ALLOW_HOSTS lists that address`;
}

/**
 * Refuses callback URLs that are not http(s) or resolve to an address a server should not be made to call.
 * Run at registration and again at connect time (DNS can change in between). Returns the resolved addresses.
 */
export async function checkCallbackUrl(url: string, options: UrlPolicy): Promise<string[]> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsafeUrlError(`callback_url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UnsafeUrlError(`callback_url must be http or https, not ${parsed.protocol.slice(0, -1)}`);
  }
  if (parsed.username || parsed.password) throw new UnsafeUrlError('callback_url must not carry credentials');
  // WHATWG URL has already rewritten IPv4 spellings such as 0x7f.1, 2130706433 and 127.1 as 127.0.0.1.
  const host = unbracket(parsed.hostname);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await (options.lookup ?? systemLookup)(host);
  } catch (err) {
    throw new UnsafeUrlError(`callback_url host ${host} does not resolve: ${(err as Error).message}`);
  }
  if (addresses.length === 0) throw new UnsafeUrlError(`callback_url host ${host} does not resolve`);
  for (const address of addresses) {
    const refusal = addressRefusal(options, host, address);
    if (refusal !== null) throw new UnsafeUrlError(refusal);
  }
  return addresses;
}
