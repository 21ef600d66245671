import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../lib/clock.js';
import type { DeliveryRepository } from '../store/delivery-repository.js';
import type { DeliveryRow } from '../store/delivery-rows.js';
import type { EventRepository } from '../store/event-repository.js';
import type { EndpointGate } from './endpoint-gate.js';
import type { OutcomePolicy } from './outcome-policy.js';
import type { WebhookSender } from './sender.js';
import type { SubscriptionIndex } from './subscription-index.js';
import type { SendSlots } from './send-slots.js';

/** What the webhook engine's two halves (the log dispatcher and the retry worker) are given, and report. */
export interface WorkerOptions {
  leaseMs: number;
  /** How often an idle worker looks for due deliveries (manual retries and replays wake it at once). */
  pollMs: number;
  outcome: OutcomePolicy;
}

export interface WorkerDeps {
  deliveries: DeliveryRepository;
  events: EventRepository;
  index: SubscriptionIndex;
  sender: WebhookSender;
  /** Circuit, Retry-After pause and throttle per subscription; it also keeps the subscription's health. */
  gate: EndpointGate;
  /** Requests in flight, shared with the log dispatcher. */
  slots: SendSlots;
  clock: Clock;
  log: FastifyBaseLogger;
}

/** What a settled lease reports to listeners (tests and the bench wait on these, never on sleeps). */
export interface SettledDelivery {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  status: DeliveryRow['status'];
  attempts: number;
  /** How long the HTTP attempt this outcome records took; absent when none was made. */
  durationMs?: number;
}
