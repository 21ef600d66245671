import fp from 'fastify-plugin';
import { startCleanupLoop } from '../events/cleanup.js';

export default fp(
  async (app) => {
    const loop = startCleanupLoop(app.store.events, app.config.cleanup, app.log.child({ component: 'cleanup' }));
    app.addHook('onClose', async () => {
      await loop.stop();
    });
  },
  { name: 'cleanup', dependencies: ['store'] },
);
