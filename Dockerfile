# Herald container image. Two stages:
#   build   — installs all dependencies and compiles src/ to dist/ (tsconfig.build.json)
#   runtime — production dependencies only, the compiled dist/, runs as the non-root `node` user
#
# The base is Node 24 LTS on Debian 13 "trixie" slim (glibc): @surrealdb/node loads its prebuilt
# linux-<arch>-gnu .node addon, so an Alpine (musl) base is not used. See docs/deployment.md.
#
# Both `npm ci` runs pass --ignore-scripts: the package's `prepare` script builds the client SDK on a
# developer's `npm install`, which here would run before src/ is copied (build) or without TypeScript
# (runtime). No production dependency has an install script.

###
# build
###
FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

###
# runtime
###
FROM node:24-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
# Production dependencies only: tsx and esbuild are devDependencies, so the image runs dist/ with plain node.
# @surrealdb/node ships the native engine for every platform inside one package (~150 MB); keep only this
# image's linux-<arch>-gnu binary and fail the build if it is missing.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && keep="surrealdb-node.linux-$(node -p process.arch)-gnu.node" \
 && test -f "node_modules/@surrealdb/node/dist/$keep" \
 && find node_modules/@surrealdb/node/dist -name '*.node' ! -name "$keep" -delete

# package.json stays next to dist/: the health route reads the version from ../../package.json.
COPY --from=build /app/dist ./dist
# The dashboard's static files, served at / (src/routes/dashboard.ts resolves ../../public from dist/routes).
COPY public ./public

# Embedded RocksDB lives on /data by default. Create it owned by `node` *before* declaring the VOLUME so a
# fresh named volume is initialised with that ownership. (With HERALD_DB_URL=ws://… it stays unused.)
RUN mkdir -p /data && chown node:node /data
VOLUME /data

# MALLOC_ARENA_MAX=2: glibc's per-thread malloc arenas held ~30-50 MB the engine's threads had freed
# (docs/deployment.md, "Memory").
ENV PORT=8080 \
    HOST=0.0.0.0 \
    HERALD_DB_URL=rocksdb:///data/herald \
    MALLOC_ARENA_MAX=2

USER node
EXPOSE 8080

# Slim images have no curl/wget: probe GET /health with Node's built-in fetch. /health answers 200 when the
# store answers and 503 ("degraded") when it does not, so the container turns unhealthy when its database
# is unreachable. It is public (no API key needed) and 127.0.0.1 is always allowed. It stays on /health rather
# than /livez (which does not ask the store) or /readyz (which also fails while the live feed trails a bulk
# load); Kubernetes gets those two (docs/deployment.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# server.ts handles SIGTERM/SIGINT itself (drain, commit queued events, close the store, exit), so node can
# run as PID 1. Keep `docker stop` grace above HERALD_SHUTDOWN_TIMEOUT (10s default).
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
