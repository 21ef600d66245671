import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import { openapiOptions } from '../docs/openapi.js';

/**
 * @fastify/swagger, registered before the routes: its onRoute hook collects them. The document is built
 * on its first request (`app.swagger()`), not at start-up. Served by routes/docs.ts.
 */
export default fp(
  async (app) => {
    await app.register(swagger, openapiOptions);
  },
  { name: 'openapi' },
);
