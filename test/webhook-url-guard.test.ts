import { describe, expect, it } from 'vitest';
import { UnsafeUrlError, checkCallbackUrl, classifyAddress } from '../src/webhooks/url-guard.js';
import { GUARDED_HOSTS, PUBLIC_HOSTS, REFUSED_HOSTS, asAddress } from './fixtures/ssrf-targets.js';

const resolvesTo = (...addresses: string[]) => async () => addresses;

describe('callback URL guard', () => {
  it.each([
    'http://127.0.0.1/hook', 'http://127.9.9.9:8080/', 'http://[::1]/', 'http://10.1.2.3/', 'http://172.16.0.1/',
    'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/', 'http://0.0.0.0/', 'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/', 'http://[fe80::1]/', 'http://[fd00::1]/', 'http://[::]/', 'http://100.64.0.1/',
  ])('refuses %s by default, naming the switch', async (url) => {
    await expect(checkCallbackUrl(url, { allowPrivate: false })).rejects.toThrow(/HERALD_WEBHOOK_ALLOW_PRIVATE/);
  });

  it('refuses a hostname that resolves to loopback, and one with any private address among its records', async () => {
    await expect(checkCallbackUrl('https://sneaky.example/', { allowPrivate: false, lookup: resolvesTo('127.0.0.1') }))
      .rejects.toThrow(/resolves to 127\.0\.0\.1/);
    await expect(checkCallbackUrl('https://mixed.example/', { allowPrivate: false, lookup: resolvesTo('93.184.216.34', '10.0.0.7') }))
      .rejects.toThrow(UnsafeUrlError);
  });

  it('accepts public addresses, and private ones when allowed', async () => {
    await expect(checkCallbackUrl('https://hooks.example/x', { allowPrivate: false, lookup: resolvesTo('93.184.216.34', '2606:2800:220:1::1') }))
      .resolves.toEqual(['93.184.216.34', '2606:2800:220:1::1']);
    await expect(checkCallbackUrl('http://127.0.0.1:9999/', { allowPrivate: true })).resolves.toEqual(['127.0.0.1']);
  });

  it('refuses non-http schemes, credentials and garbage', async () => {
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://x/', 'not a url', 'http://user:pw@example.com/']) {
      await expect(checkCallbackUrl(url, { allowPrivate: true, lookup: resolvesTo('93.184.216.34') })).rejects.toThrow(UnsafeUrlError);
    }
  });

  it('classifies addresses', () => {
    const tier = (address: string) => classifyAddress(address).tier;
    expect(tier('8.8.8.8')).toBe('public');
    expect(tier('::ffff:8.8.8.8')).toBe('public');
    expect(tier('172.32.0.1')).toBe('public');
    expect(tier('172.31.255.255')).toBe('private');
    expect(tier('not-an-ip')).toBe('private');
  });
});

describe('address classification (ipaddr.js ranges)', () => {
  it.each(REFUSED_HOSTS)('refuses http://%s/ by default, naming what allows it', async (host) => {
    await expect(checkCallbackUrl(`http://${host}/hook`, { allowPrivate: false })).rejects.toThrow(/HERALD_WEBHOOK_ALLOW_(PRIVATE|HOSTS)/);
  });

  it.each(REFUSED_HOSTS)('refuses a name that resolves to %s', async (host) => {
    await expect(checkCallbackUrl('https://rebind.example/', { allowPrivate: false, lookup: resolvesTo('93.184.216.34', asAddress(host)) }))
      .rejects.toThrow(/resolves to/);
  });

  it.each(PUBLIC_HOSTS)('accepts the public address %s, literal and resolved', async (host) => {
    await expect(checkCallbackUrl(`https://${host}/hook`, { allowPrivate: false })).resolves.toEqual([asAddress(host)]);
    await expect(checkCallbackUrl('https://hooks.example/', { allowPrivate: false, lookup: resolvesTo(asAddress(host)) }))
      .resolves.toEqual([asAddress(host)]);
  });

  it('reads ::a.b.c.d as the kernel does (IPv4-compatible), not as IPv4-mapped', () => {
    expect(classifyAddress('::8.8.8.8')).toEqual({ tier: 'guarded', range: 'ipv4Compatible' });
    expect(classifyAddress('::ffff:8.8.8.8')).toEqual({ tier: 'public', range: 'unicast' });
    expect(classifyAddress('fe80::1%eth0')).toEqual({ tier: 'guarded', range: 'linkLocal' });
  });
});

describe('link-local and cloud metadata with HERALD_WEBHOOK_ALLOW_PRIVATE=true', () => {
  const open = { allowPrivate: true };

  it.each(GUARDED_HOSTS)('still refuses %s, literal and resolved, naming HERALD_WEBHOOK_ALLOW_HOSTS', async (host) => {
    await expect(checkCallbackUrl(`http://${host}/`, open)).rejects.toThrow(/unless HERALD_WEBHOOK_ALLOW_HOSTS lists that address/);
    await expect(checkCallbackUrl('http://metadata.example/', { ...open, lookup: resolvesTo(asAddress(host)) })).rejects.toThrow(UnsafeUrlError);
  });

  it('still allows loopback and private targets', async () => {
    for (const host of ['127.0.0.1', '[::1]', '10.0.0.1', '[fd00::1]', '192.0.2.1']) {
      await expect(checkCallbackUrl(`http://${host}:9000/`, open)).resolves.toEqual([asAddress(host)]);
    }
  });

  it('allows a guarded address only when HERALD_WEBHOOK_ALLOW_HOSTS names the address (a range for link-local)', async () => {
    const named = { allowPrivate: false, allowHosts: ['169.254.169.254', 'fe80::/10', '169.254.0.0/16'] };
    await expect(checkCallbackUrl('http://169.254.169.254/', named)).resolves.toEqual(['169.254.169.254']);
    await expect(checkCallbackUrl('http://[::ffff:169.254.169.254]/', named)).resolves.toHaveLength(1);
    await expect(checkCallbackUrl('http://[fe80::1]/', named)).resolves.toEqual(['fe80::1']);
    await expect(checkCallbackUrl('http://169.254.1.1/', named)).resolves.toEqual(['169.254.1.1']);
    // A range that happens to contain a metadata address does not name it.
    await expect(checkCallbackUrl('http://100.100.100.200/', { ...open, allowHosts: ['100.64.0.0/10'] })).rejects.toThrow(UnsafeUrlError);
    await expect(checkCallbackUrl('http://100.100.100.201/', { allowPrivate: false, allowHosts: ['100.64.0.0/10'] })).resolves.toHaveLength(1);
    // A listed name can be re-pointed by its DNS, so it does not unlock metadata either.
    await expect(checkCallbackUrl('http://metadata.internal/', { ...open, allowHosts: ['metadata.internal'], lookup: resolvesTo('169.254.169.254') }))
      .rejects.toThrow(UnsafeUrlError);
  });
});
