import { describe, expect, it } from 'vitest';
import { UnsafeUrlError, checkCallbackUrl, isForbiddenAddress } from '../src/webhooks/url-guard.js';

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
    expect(isForbiddenAddress('8.8.8.8')).toBe(false);
    expect(isForbiddenAddress('::ffff:8.8.8.8')).toBe(false);
    expect(isForbiddenAddress('172.32.0.1')).toBe(false);
    expect(isForbiddenAddress('172.31.255.255')).toBe(true);
    expect(isForbiddenAddress('not-an-ip')).toBe(true);
  });
});
