/**
 * Property tests over every HTTP route: whatever arrives, the answer is a 2xx or a 4xx in the documented
 * error shape, a refused request writes nothing, and /health keeps answering quickly meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cleanupServers } from '../helpers/spawn-server.js';
import { ROUTES, bodyOf, hostileSegment, queryOf, type FuzzInput, type IdKind, type Route } from './requests.js';
import { PROPERTY_TIMEOUT_MS, fuzz, fuzzRequest, jsonHeaders, startFuzzServer, type FuzzServer } from './harness.js';
import { expectLiveness, watchHealth } from './liveness.js';
import type { TSchema } from 'typebox';
import { arbitraryOf } from './arbitraries.js';
import { deepArray, deepNest, hostileValue, inserted, invalidUtf8, oddNumber, serialize } from './hostile.js';

/** Bytes that are not JSON at all, sent as written. */
class RawBody {
  constructor(readonly text: string) {}
}

let server: FuzzServer;
let health: ReturnType<typeof watchHealth>;

beforeAll(async () => {
  server = await startFuzzServer();
  health = watchHealth(server.port);
}, 60_000);

afterAll(async () => {
  await health?.stop();
  await cleanupServers();
});

/** A stored row's id or a well-formed unknown one; hostile path segments are the transport property's. */
function idOf(kind: IdKind): fc.Arbitrary<string> {
  return kind === 'none' ? fc.uuid() : fc.oneof(fc.constant(server.fixture[kind]), fc.uuid());
}

function requestsFor(route: Route) {
  const parts: fc.Arbitrary<FuzzInput> = route.body ? bodyOf(route.body) : route.query ? queryOf(route.query) : fc.constant({ query: '' });
  // Routes without a body still get one now and then: it must be ignored or refused, never break them.
  const stray = route.body ? fc.constant(undefined) : fc.option(hostileValue, { freq: 4, nil: undefined });
  return fc.record({ id: idOf(route.id), parts, stray });
}

describe('every HTTP route answers a 2xx or a documented 4xx and a refusal writes nothing', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path}`, async () => {
      await fuzz(requestsFor(route), async ({ id, parts, stray }) => {
          const path = `${route.path.replace(':id', id)}${parts.query}`;
          const body = parts.body !== undefined ? parts.body : stray;
          const res = await fuzzRequest(server, {
            method: route.method,
            path,
            ...(body !== undefined && { body: serialize(body), headers: jsonHeaders }),
          });
          if (parts.mustRefuse) expect(res.status, `${parts.mustRefuse}, yet ${route.method} ${path.slice(0, 200)} → ${res.status}`).toBeGreaterThanOrEqual(400);
        });
    }, PROPERTY_TIMEOUT_MS);
  }
});

/**
 * One hostile class at a time across every route with a body, so a bug of one class cannot hide another
 * behind its counterexample.
 */
describe('hostile classes on every route with a body', () => {
  const bodyRoutes = new Map(ROUTES.filter((r) => r.body).map((r) => [`${r.method} ${r.path}`, r]));
  // Routes are drawn by name, so a counterexample prints `PATCH /subscriptions/:id`, not the schema.
  const placed = (hostile: fc.Arbitrary<unknown>) =>
    fc.constantFrom(...bodyRoutes.keys()).chain((name) => {
      const route = bodyRoutes.get(name) as Route;
      return fc.record({ route: fc.constant(name), id: idOf(route.id), body: inserted(arbitraryOf(route.body as TSchema), hostile) });
    });
  const send = async ({ route, id, body }: { route: string; id: string; body: unknown }) => {
    const { method, path } = bodyRoutes.get(route) as Route;
    return fuzzRequest(server, { method, path: path.replace(':id', id), headers: jsonHeaders, body: serialize(body) });
  };

  it('a body that is not UTF-8 is refused', async () => {
    await fuzz(placed(invalidUtf8), async (input) => {
      const res = await send(input);
      expect(res.status, `${input.route} accepted text that is not UTF-8`).toBeGreaterThanOrEqual(400);
    });
  }, PROPERTY_TIMEOUT_MS);
  it('5,000 levels of nesting anywhere', async () => {
    await fuzz(placed(fc.constantFrom(deepNest(5000), deepArray(5000))), async (input) => {
      await send(input);
    });
  }, PROPERTY_TIMEOUT_MS);
  it('numbers JSON can spell but a double or the store cannot hold', async () => {
    await fuzz(placed(oddNumber), async (input) => {
      await send(input);
    });
  }, PROPERTY_TIMEOUT_MS);
});

describe('the transport: paths, methods, headers and bodies around the routes', () => {
  const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
  const paths = fc.oneof(
    fc.constantFrom(...ROUTES.map((r) => r.path)),
    fc.constantFrom('/events/', '//events', '/%ff', '/..%2f..%2fpackage.json', '/index.html', '/nope', '/events?%', '/events?a=%ff&&=&'),
  );
  const headers = fc.constantFrom<Record<string, string>>(
    { 'Content-Type': 'text/plain' },
    { 'Content-Type': 'application/json; charset=latin1' },
    { 'Content-Type': 'application/x-www-form-urlencoded' },
    { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    { 'Content-Type': 'application/json', Cookie: `a=${'x'.repeat(20_000)}` },
    { 'Content-Type': 'application/json', 'X-Big': 'x'.repeat(70_000) },
    { 'Content-Type': 'application/json', Authorization: 'Bearer ' },
    { 'Content-Type': 'application/json', Authorization: `Bearer ${'x'.repeat(8000)}` },
    { 'Content-Type': 'application/json', Origin: 'null' },
    { 'Content-Type': 'application/json', Accept: 'text/html' },
  );
  const bodies = fc.option(fc.oneof(hostileValue, fc.constantFrom(new RawBody('{'), new RawBody('\xff\xfe'), new RawBody(''))), { nil: undefined });
  const bytesOf = (body: unknown) => (body instanceof RawBody ? Buffer.from(body.text, 'latin1') : serialize(body));

  it('any method on a path with a malformed escape or an over-long segment', async () => {
    // A hostile segment in place of `:id`, or after a path that has none.
    const path = fc.tuple(paths, hostileSegment).map(([p, seg]) => (p.includes(':id') ? p.replace(':id', seg) : `${p}${seg}`));
    await fuzz(fc.record({ method: methods, path, body: bodies }), async ({ method, path: p, body }) => {
      await fuzzRequest(server, { method, path: p, headers: jsonHeaders, ...(body !== undefined && { body: bytesOf(body) }) });
    });
  }, PROPERTY_TIMEOUT_MS);

  it('odd and oversized headers on every route', async () => {
    const path = fc.tuple(fc.constantFrom(...ROUTES.map((r) => r.path)), fc.uuid()).map(([p, id]) => p.replace(':id', id));
    await fuzz(fc.record({ method: methods, path, header: headers, body: bodies }), async ({ method, path: p, header, body }) => {
      await fuzzRequest(server, { method, path: p, headers: header, ...(body !== undefined && { body: bytesOf(body) }) });
    });
  }, PROPERTY_TIMEOUT_MS);
});

describe('liveness while fuzzing', () => {
  it('/health answers within 100 ms (99 % of answers) and never stalls for a second', async () => {
    await expectLiveness(health, 'http');
  });
});
