import type { Event } from '../schemas/event.js';
import { compileSelection, type Selection } from '../events/selection.js';
import type { EventSink, Routable } from './router.js';

/**
 * One subscription of a WebSocket Connection, as the router indexes it. `order` and `coveredFrom` are what the
 * connection needs to send each event once when several of a socket's subscriptions match it.
 */
export class Subscription implements Routable {
  readonly eventTypes: readonly string[];
  readonly matches: (event: Event) => boolean;
  constructor(
    readonly key: string,
    readonly order: number,
    readonly selection: Selection,
    /** This subscription delivers every matching event with seq > coveredFrom (by replay, then live). */
    readonly coveredFrom: number,
    readonly connection: EventSink,
  ) {
    this.eventTypes = selection.types;
    this.matches = compileSelection(selection);
  }
}
