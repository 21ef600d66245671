import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import { errorResponses } from '../schemas/common.js';
import { buildAsyncApi } from '../docs/asyncapi.js';

/**
 * The same policy as the dashboard's (routes/dashboard.ts), plus inline style attributes, which Swagger UI
 * sets. Its files are served from this package: nothing is loaded from another origin.
 */
const CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const ApiDocument = (id: string, description: string) =>
  Type.Object({}, { $id: id, description, additionalProperties: true });

/**
 * The API documents and their UI. Like the health routes they carry no `scope`: they describe the API and
 * hold no data or secret (Svix and Centrifugo publish theirs too). Protected mode still serves them to
 * loopback clients only, as every route.
 */
const docs: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/openapi.json', {
    logLevel: 'warn',
    schema: {
      summary: 'This OpenAPI 3.1 document of the HTTP API',
      response: { 200: ApiDocument('OpenApiDocument', 'An OpenAPI 3.1 document'), ...errorResponses() },
    },
  }, async () => app.swagger());

  let asyncapi: Record<string, unknown> | undefined;
  app.get('/asyncapi.json', {
    logLevel: 'warn',
    schema: {
      summary: 'The AsyncAPI 3.0 document of the WebSocket stream on GET /events',
      response: { 200: ApiDocument('AsyncApiDocument', 'An AsyncAPI 3.0 document'), ...errorResponses() },
    },
  }, async () => (asyncapi ??= buildAsyncApi()));

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: CSP,
    logLevel: 'warn',
    uiConfig: { validatorUrl: null, tryItOutEnabled: false },
    theme: { title: 'Herald API' },
  });
};

export default docs;
