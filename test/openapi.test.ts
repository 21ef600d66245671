import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { testApp } from './helpers/app.js';
import { version } from '../src/lib/version.js';

interface Operation {
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** Every route Fastify registers while the app is built, seen through its onRoute hook. */
const routes: RouteOptions[] = [];
const collect = (message: unknown) => {
  (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
    routes.push(route);
  });
};

let app: FastifyInstance;
let doc: Document;
beforeAll(async () => {
  subscribe('fastify.initialization', collect);
  try {
    app = await testApp();
  } finally {
    unsubscribe('fastify.initialization', collect);
  }
  const res = await app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(async () => {
  await app.close();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
const refOf = (media: Record<string, { schema: { $ref?: string } }> | undefined) => media?.['application/json']?.schema.$ref;

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, versioned like the package', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.info.version).toBe(version);
    // The validator does look inside: an operation whose response has no description is refused.
    const broken = structuredClone(doc);
    delete (broken.paths['/events']?.get?.responses['200'] as { description?: string }).description;
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });

  it('has every route Fastify registered, with every method (the WebSocket upgrade is in /asyncapi.json)', () => {
    expect(routes.length).toBeGreaterThan(10);
    const hidden = routes.filter((r) => (r.schema as { hide?: boolean } | undefined)?.hide === true);
    // Hidden: the documentation UI and the dashboard's static files (public/, and the client SDK's build
    // under /client/), nothing else.
    for (const r of hidden.filter((r) => !/^\/docs(\/|$)/.test(r.url))) {
      const file = r.url.startsWith('/client/') ? join('dist', r.url) : join('public', r.url === '/' ? 'index.html' : r.url);
      expect(existsSync(file), r.url).toBe(true);
    }

    const expected = routes
      .filter((r) => !hidden.includes(r))
      .flatMap((r) => [r.method].flat().filter((m) => m !== 'HEAD').map((m) => `${m.toLowerCase()} ${r.url.replace(/:(\w+)/g, '{$1}')}`));
    const documented = operations().map(({ path, method }) => `${method} ${path}`);
    expect(new Set(documented)).toEqual(new Set(expected));
    expect(documented).toEqual(expect.arrayContaining(['get /events', 'post /events', 'post /events/batch', 'get /openapi.json', 'get /asyncapi.json']));
  });

  it('tags every operation by resource and asks for a Bearer key with the scope the route needs', () => {
    const byKey = new Map(routes.map((r) => [`${[r.method].flat()[0]} ${r.url}`, r]));
    for (const { path, method, op } of operations()) {
      expect(op.tags, `${method} ${path}`).toHaveLength(1);
      const route = byKey.get(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      const scope = route?.config?.scope;
      // `?token=` is an alternative only where a plain HTTP request may carry it (an EventSource stream).
      const viaQuery = route?.config?.tokenInQuery?.includes('event-stream') ? [{ queryToken: [scope] }] : [];
      if (scope) expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: [scope] }, ...viaQuery]);
      else expect(op.security, `${method} ${path}`).toBeUndefined();
    }
    const publicPaths = operations().filter(({ op }) => !op.security).map(({ path }) => path);
    expect(new Set(publicPaths)).toEqual(new Set(['/health', '/api/health', '/ready', '/livez', '/readyz', '/openapi.json', '/asyncapi.json']));
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('declares the error responses each route can answer, each with the error schema and what the status means', () => {
    for (const { path, method, op } of operations()) {
      const where = `${method} ${path}`;
      const errors = Object.keys(op.responses).filter((status) => Number(status) >= 400);
      expect(errors, where).toEqual(expect.arrayContaining(['400', '401', '403']));
      if (op.requestBody) expect(errors, where).toEqual(expect.arrayContaining(['413', '415']));
      if (path.includes('{')) expect(errors, where).toContain('404');
      for (const status of errors) {
        // A probe answers 503 with its own body; every other error is the one error shape.
        const allowed = ['#/components/schemas/ErrorBody', ...(status === '503' ? [refOf(op.responses['200']?.content)] : [])];
        expect(allowed, `${where} ${status}`).toContain(refOf(op.responses[status]?.content));
        expect(op.responses[status]?.description, `${where} ${status}`).not.toBe('Default Response');
      }
    }
    const errorsOf = (path: string, method: string) => Object.keys(doc.paths[path]?.[method]?.responses ?? {}).filter((s) => Number(s) >= 400);
    expect(errorsOf('/events', 'post')).toContain('503');
    expect(errorsOf('/deliveries/{id}/retry', 'post')).toContain('409');
    expect(errorsOf('/subscriptions', 'post')).toContain('422');
    expect(errorsOf('/events', 'get')).not.toContain('413');
  });

  it('names the bodies and responses after their schemas', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(
      ['Event', 'EventInput', 'BatchInput', 'HistoryPage', 'ErrorBody', 'Subscription', 'SubscriptionInput', 'Delivery', 'DeliveryDetail', 'Health']));
    const publish = doc.paths['/events']?.post;
    expect(refOf(publish?.requestBody?.content)).toBe('#/components/schemas/EventInput');
    expect(refOf(publish?.responses['201']?.content)).toBe('#/components/schemas/EventEnvelope');
    expect(refOf(doc.paths['/events']?.get?.responses['200']?.content)).toBe('#/components/schemas/HistoryPage');
    // The same 200 is the Server-Sent Events stream with Accept: text/event-stream (src/stream/sse.ts).
    expect(Object.keys(doc.paths['/events']?.get?.responses['200']?.content ?? {})).toEqual(['application/json', 'text/event-stream']);
  });

  it('shows GET /events without the token parameter it refuses over HTTP, and limit as optional', () => {
    const history = doc.paths['/events']?.get;
    const parameters = history?.parameters ?? [];
    expect(parameters.map((p) => p.name)).not.toContain('token');
    expect(parameters.find((p) => p.name === 'limit')).toMatchObject({ in: 'query', required: false });
    const queryNames = operations().flatMap(({ op }) => (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
    expect(queryNames).not.toContain('token');
  });
});

describe('API documents and /docs', () => {
  it('serves the Swagger UI page and its scripts from Herald itself', async () => {
    const page = await app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const src of scripts) {
      const asset = await app.inject({ url: new URL(src, 'http://localhost/docs').pathname });
      expect(asset.statusCode, src).toBe(200);
      expect(asset.headers['content-type'], src).toMatch(/javascript/);
    }
  });

  it('needs no key when keys are configured: the documents hold no data or secret', async () => {
    const keyed = await testApp({ HERALD_API_KEYS: 'k1:read' });
    try {
      for (const url of ['/openapi.json', '/asyncapi.json', '/docs']) {
        expect((await keyed.inject({ url, remoteAddress: '203.0.113.9' })).statusCode, url).toBe(200);
      }
      expect((await keyed.inject({ url: '/events', remoteAddress: '203.0.113.9' })).statusCode).toBe(401);
    } finally {
      await keyed.close();
    }
  });
});
