import fp from 'fastify-plugin';
import type { Surreal } from 'surrealdb';
import { closeConnection, openConnection } from '../store/connection.js';
import { migrate } from '../store/migrations.js';
import { refuseNewerSchema, settleSchema } from '../store/schema-version.js';
import { EventRepository } from '../store/event-repository.js';
import { SubscriptionRepository } from '../store/subscription-repository.js';
import { AttemptLog } from '../store/attempt-log.js';
import { CursorRepository } from '../store/cursor-repository.js';
import { DeliveryRepository } from '../store/delivery-repository.js';

export interface Store {
  db: Surreal;
  events: EventRepository;
  subscriptions: SubscriptionRepository;
  deliveries: DeliveryRepository;
  cursors: CursorRepository;
  attemptLog: AttemptLog;
  /** Answers within the timeout or reports the store as down. */
  ping(timeoutMs?: number): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

export interface StorePluginOptions {
  /** An already-open connection (tests share one between two app instances); the app will not close it. */
  db?: Surreal;
}

export default fp<StorePluginOptions>(
  async (app, opts) => {
    const db = opts.db ?? (await openConnection(app.config.db));
    await refuseNewerSchema(db);
    await migrate(db);
    await settleSchema(db, app.log);
    const ping = async (timeoutMs = 2000): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const query = db.query('RETURN 1').collect().then(() => true, () => false);
      try {
        return await Promise.race([query, timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    app.decorate('store', { db, events: new EventRepository(db), subscriptions: new SubscriptionRepository(db), deliveries: new DeliveryRepository(db), cursors: new CursorRepository(db), attemptLog: new AttemptLog(db), ping });
    if (!opts.db) {
      app.addHook('onClose', async () => {
        await closeConnection(db);
      });
    }
    app.log.info({ url: redactUrl(app.config.db.url) }, 'store ready');
  },
  { name: 'store', dependencies: ['config'] },
);

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
