import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic, { type FastifyStaticOptions } from '@fastify/static';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
/** The browser-safe client SDK, compiled by `npm install` (the `prepare` script); the page imports it. */
const CLIENT_DIR = fileURLToPath(new URL('../../dist/client/', import.meta.url));

/**
 * The page may only talk to its own origin ('self' covers ws: on the same host in CSP 3), runs no inline
 * script, and cannot be framed — its retry buttons must not be clickjacked.
 */
const CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC_OPTIONS = {
  // One route per file found at start-up instead of a `/*` catch-all: a file can never shadow an API
  // route (GET /events, /health, …) — a clash fails at start — and unknown paths keep the JSON 404.
  wildcard: false,
  decorateReply: false,
  logLevel: 'warn',
  setHeaders: (res) => {
    res.setHeader('content-security-policy', CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
  },
} satisfies Omit<FastifyStaticOptions, 'root'>;

/**
 * The live dashboard at `GET /`: static files from public/. They hold no data, so the routes carry no
 * `scope` (public; auth.ts still refuses non-loopback clients in protected mode). The page asks for a key
 * itself when the API answers 401.
 */
const dashboard: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', ...STATIC_OPTIONS });
  if (!existsSync(CLIENT_DIR)) {
    app.log.warn({ dir: CLIENT_DIR }, 'client SDK not built (run npm install): the dashboard cannot stream');
    return;
  }
  // Only the modules: the .d.ts and source maps are for TypeScript, not for the page.
  await app.register(fastifyStatic, { root: CLIENT_DIR, prefix: '/client/', allowedPath: (path) => path.endsWith('.js'), ...STATIC_OPTIONS });
};


export default dashboard;
