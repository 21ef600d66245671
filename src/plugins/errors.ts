import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { HttpError } from '../lib/http-error.js';
import { httpValidatorCompiler } from '../lib/validation.js';
import { ShuttingDownError, StoreUnavailableError } from '../events/committer.js';

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
};

/** Validation (see lib/validation.ts) and the one error shape of DESIGN.md. */
export default fp(
  async (app) => {
    app.setValidatorCompiler(httpValidatorCompiler());

    app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
      if (error instanceof HttpError) {
        return reply.status(error.statusCode).send({
          error: { code: error.code, message: error.message, ...(error.details !== undefined && { details: error.details }) },
        });
      }
      if (error instanceof ShuttingDownError || error instanceof StoreUnavailableError) {
        request.log.warn({ err: error }, 'store unavailable');
        return reply.status(503).send({ error: { code: 'unavailable', message: error.message } });
      }
      const fastifyError = error as FastifyError;
      if (fastifyError.validation) {
        const where = fastifyError.validationContext ?? 'request';
        return reply.status(400).send({
          error: {
            code: 'validation_error',
            message: fastifyError.message,
            details: fastifyError.validation.map((v) => ({
              in: where,
              path: v.instancePath,
              message: v.message,
              params: v.params,
            })),
          },
        });
      }
      const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
      if (known) return reply.status(known[0]).send({ error: { code: known[1], message: fastifyError.message } });
      const status = fastifyError.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return reply.status(status).send({ error: { code: 'bad_request', message: fastifyError.message } });
      }
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ error: { code: 'internal_error', message: 'internal error' } });
    });

    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
    );
  },
  { name: 'errors' },
);
