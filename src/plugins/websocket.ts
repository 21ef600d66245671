import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';

/**
 * @fastify/websocket, registered before auth: its onRequest hook marks upgrade requests, and only a marked
 * request has its socket destroyed after an HTTP answer — a 401/403 upgrade refusal included. Registered
 * later, a refused upgrade would keep its socket open and hold up shutdown.
 */
export default fp(
  async (app) => {
    await app.register(websocket, {
      // Up to 4× the limit the stream reads a message and closes with 4503 and a reason; beyond that ws
      // refuses the frame itself (1009) without buffering it.
      options: { maxPayload: app.config.ws.maxMessageBytes * 4 },
      // The stream kills its LIVE query first, then closes every socket with 1001.
      preClose: async function () {
        if (app.hasDecorator('stream')) await app.stream.shutdown();
        app.websocketServer.close();
      },
    });
  },
  { name: 'websocket', dependencies: ['config'] },
);
