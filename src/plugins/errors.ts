import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../lib/http-error.js';
import { JsonRuleError, parseJson } from '../lib/json.js';
import { httpValidatorCompiler } from '../lib/validation.js';
import { ShuttingDownError, StoreUnavailableError } from '../events/committer.js';

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
};

const errorBody = (code: string, message: string) => ({ error: { code, message } });

/**
 * Errors Fastify answers before any hook or handler runs (a path that is not valid percent-encoding, a path
 * parameter over maxParamLength), in the one error shape. A Fastify server option (see app.ts).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.status(400).send(errorBody('bad_url', 'the request path is not valid percent-encoded UTF-8'));
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const limit = request.server.initialConfig.maxParamLength ?? 100;
    void reply.status(414).send(errorBody('uri_too_long', `a path parameter is longer than ${limit} characters`));
  } else {
    request.log.error({ err: error }, 'request failed before routing');
    void reply.status(500).send(errorBody('internal_error', 'internal error'));
  }
}

const CLIENT_ERROR_LINGER_MS = 2000;

/**
 * Requests Node's HTTP parser refuses (headers over its limit, 16 KiB by default; malformed request lines)
 * never become a Fastify request: the answer is written to the socket, in the one error shape. A Fastify
 * server option.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // A keep-alive socket may be in the middle of an earlier answer: an error answer now would corrupt it.
  const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (answering || !socket.writable) {
    socket.destroy(err);
    return;
  }
  const [status, body] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, errorBody('headers_too_large', `the request line and headers are larger than ${maxHeaderSize} bytes`)]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, errorBody('request_timeout', 'the request was not received in time')]
        : [400, errorBody('bad_request', 'the request is not valid HTTP')];
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  // Closing with unread input makes the kernel reset the connection, and the reset can overtake the answer:
  // read and drop what the client is still sending, for a moment, then let go.
  socket.resume();
  setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
}

/** The JSON body parser (lib/json.ts: the rule WebSocket messages follow too), validation and the one error shape. */
export default fp(
  async (app) => {
    app.setValidatorCompiler(httpValidatorCompiler());

    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
      try {
        done(null, parseJson(body as Buffer));
      } catch (err) {
        done(err instanceof JsonRuleError ? new HttpError(400, err.code, err.message) : (err as Error), undefined);
      }
    });

    app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
      if (error instanceof HttpError) {
        return reply.status(error.statusCode).send({
          error: { code: error.code, message: error.message, ...(error.details !== undefined && { details: error.details }) },
        });
      }
      if (error instanceof ShuttingDownError || error instanceof StoreUnavailableError) {
        request.log.warn({ err: error }, 'store unavailable');
        return reply.status(503).send(errorBody('unavailable', error.message));
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
      if (known) return reply.status(known[0]).send(errorBody(known[1], fastifyError.message));
      const status = fastifyError.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return reply.status(status).send(errorBody('bad_request', fastifyError.message));
      }
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send(errorBody('internal_error', 'internal error'));
    });

    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'errors' },
);
