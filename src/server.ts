import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { StoreOpenError } from './store/connection.js';

// Once any index is defined, the embedded engine keeps Node alive after `await db.close()` resolves (with no
// visible handles), so every exit path ends in process.exit.
const bootLog = pino({ level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp({ config });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: draining requests and committing queued events');
    const deadline = setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // Fastify's close leaves keep-alive connections open until their timeout once their last response is
    // sent (fastify#7044); closing idle ones as they become idle lets close() finish as soon as requests do.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    reaper.unref();
    try {
      await app.close();
      app.log.info('shutdown complete');
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StoreOpenError) {
    bootLog.fatal(err.message);
  } else {
    bootLog.fatal({ err }, 'Herald failed to start');
  }
  process.exit(1);
});
