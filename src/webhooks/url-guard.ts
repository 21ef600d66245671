import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Addresses a webhook may not reach unless HERALD_WEBHOOK_ALLOW_PRIVATE is set: the SSRF targets. */
const forbidden = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) forbidden.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32],
] as const) forbidden.addSubnet(net, prefix, 'ipv6');

export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** True for loopback, private, link-local, unspecified, multicast and reserved addresses, v4 or v6. */
export function isForbiddenAddress(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped) return forbidden.check(mapped[1] as string, 'ipv4');
  const family = isIP(plain);
  if (family === 4) return forbidden.check(plain, 'ipv4');
  if (family === 6) {
    // ::ffff:7f00:1 is the hex form of an IPv4-mapped address.
    const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(plain);
    if (hexMapped) {
      const hi = parseInt(hexMapped[1] as string, 16);
      const lo = parseInt(hexMapped[2] as string, 16);
      return forbidden.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
    }
    return forbidden.check(plain, 'ipv6');
  }
  return true;
}

export class UnsafeUrlError extends Error {}

/** Which targets a webhook may reach: everything public, plus private ones by switch or by allow-list. */
export interface UrlPolicy {
  allowPrivate: boolean;
  /** HERALD_WEBHOOK_ALLOW_HOSTS: hostnames, addresses and CIDR ranges allowed even when private. */
  allowHosts?: string[];
  lookup?: Lookup;
}

function allowList(entries: string[]): { hosts: Set<string>; nets: BlockList } {
  const hosts = new Set<string>();
  const nets = new BlockList();
  for (const entry of entries) {
    const [net, bits] = entry.split('/');
    const family = isIP(net ?? '');
    if (family !== 0) nets.addSubnet(net as string, bits === undefined ? (family === 4 ? 32 : 128) : Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    else hosts.add(entry.toLowerCase());
  }
  return { hosts, nets };
}

/** The address check both at registration and at connect time; null when allowed, else the reason. */
export function addressRefusal(policy: UrlPolicy, host: string, address: string): string | null {
  if (policy.allowPrivate || !isForbiddenAddress(address)) return null;
  const allowed = allowList(policy.allowHosts ?? []);
  if (allowed.hosts.has(host.toLowerCase())) return null;
  const family = isIP(address);
  if (family !== 0 && allowed.nets.check(address, family === 4 ? 'ipv4' : 'ipv6')) return null;
  return `callback_url ${host} resolves to ${address}, a loopback/private/link-local address; set HERALD_WEBHOOK_ALLOW_PRIVATE=true or list it in HERALD_WEBHOOK_ALLOW_HOSTS to allow it`;
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
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
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
