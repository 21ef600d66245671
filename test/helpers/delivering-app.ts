import type { AddressInfo } from 'node:net';
import { HeraldClient } from '../../src/client/index.js';
import { testApp } from './app.js';
import { startReceiver, type Receiver } from './receiver.js';

export interface DeliveringApp {
  client: HeraldClient;
  receiver: Receiver;
  close(): Promise<void>;
}

/** A listening Herald that may deliver to loopback and polls often, a client for it, and a local webhook receiver. */
export async function deliveringApp(): Promise<DeliveringApp> {
  const app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_POLL: '50ms' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const client = new HeraldClient({ baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
  const receiver = await startReceiver();
  return {
    client,
    receiver,
    close: async () => {
      await app.close();
      await receiver.close();
    },
  };
}
