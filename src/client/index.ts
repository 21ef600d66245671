/**
 * `herald/client`: the SDK for Node 20+ and browsers. Nothing here may import Node modules or, at run time,
 * server code (test/client-browser-safe.test.ts enforces it); see docs/client.md.
 */
export { HeraldClient, type HeraldClientOptions } from './client.js';
export { HeraldError, WebhookVerificationError, type WebhookFailure } from './errors.js';
export { verifyWebhook, type VerifyOptions, type WebhookHeaders } from './webhook-verify.js';
export { EventAwareAgent, type AgentTask, type PublishOptions, type TaskContext } from './agent.js';
export type { EventHandler, StateInfo, StreamGap, StreamHandle, StreamState, SubscribeOptions } from './stream.js';
export type { ReconnectOptions } from './backoff.js';
export type { TransactionOptions, TransactionPublisher, TransactionResult } from './transaction.js';
export type { DeliveryListOptions } from './admin.js';
export type { FetchLike } from './http.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
export type * from './types.js';
