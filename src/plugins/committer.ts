import fp from 'fastify-plugin';
import { Committer } from '../events/committer.js';

declare module 'fastify' {
  interface FastifyInstance {
    committer: Committer;
  }
}

export default fp(
  async (app) => {
    const { index, worker } = app.webhooks;
    const committer = new Committer(app.store.events, app.log.child({ component: 'committer' }), app.config.commit);
    if (worker) committer.onCommit(() => {
      if (index.size > 0) worker.committed();
    });
    app.decorate('committer', committer);
    // Runs before the store's onClose (hooks run in reverse registration order), so queued events commit first.
    app.addHook('onClose', async () => {
      await committer.close();
    });
  },
  { name: 'committer', dependencies: ['store', 'webhooks'] },
);
