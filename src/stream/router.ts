import type { Event, EventFormat } from '../schemas/event.js';
import { toCloudEvent } from '../events/cloudevents.js';
import { isExpired } from '../store/segment-rows.js';

/** What the router needs of a subscription: its type patterns, its predicate and where it delivers. */
export interface Routable {
  readonly eventTypes: readonly string[];
  readonly matches: (event: Event) => boolean;
  readonly connection: EventSink;
}

export interface EventSink {
  /** Receives one event with every subscription of this sink that it matched, and its JSON frame in a format. */
  offer(event: Event, matched: Routable[], frame: (format: EventFormat) => string): void;
}

/** An event frame: the event itself, or the event as a CloudEvent (docs/cloudevents.md#websocket). */
export const eventFrame = (event: Event, format: EventFormat): string =>
  JSON.stringify(format === 'cloudevents' ? toCloudEvent(event) : event);

/**
 * Matches committed events to subscriptions. Subscriptions are indexed by exact event type, so an event
 * only meets the subscriptions that name its type, use a wildcard, or take every type — the cost does not
 * grow with sockets that cannot match.
 */
export class Router {
  private readonly byType = new Map<string, Set<Routable>>();
  private readonly wildcard = new Set<Routable>();
  private readonly everything = new Set<Routable>();

  add(sub: Routable): void {
    if (sub.eventTypes.length === 0) {
      this.everything.add(sub);
      return;
    }
    for (const type of sub.eventTypes) {
      if (type.includes('*')) this.wildcard.add(sub);
      else {
        let set = this.byType.get(type);
        if (!set) this.byType.set(type, (set = new Set()));
        set.add(sub);
      }
    }
  }

  remove(sub: Routable): void {
    this.everything.delete(sub);
    this.wildcard.delete(sub);
    for (const type of sub.eventTypes) {
      const set = this.byType.get(type);
      if (set?.delete(sub) && set.size === 0) this.byType.delete(type);
    }
  }

  get size(): number {
    const all = new Set<Routable>([...this.everything, ...this.wildcard]);
    for (const set of this.byType.values()) for (const sub of set) all.add(sub);
    return all.size;
  }

  dispatch(events: Event[], now = Date.now()): void {
    for (const event of events) {
      if (isExpired(event, now)) continue;
      const perSink = new Map<EventSink, Routable[]>();
      // A subscription naming the type and a wildcard sits in two candidate sets; it is tested once.
      const seen = new Set<Routable>();
      const consider = (subs: Iterable<Routable> | undefined) => {
        if (!subs) return;
        for (const sub of subs) {
          if (seen.has(sub)) continue;
          seen.add(sub);
          if (!sub.matches(event)) continue;
          const list = perSink.get(sub.connection);
          if (list) list.push(sub);
          else perSink.set(sub.connection, [sub]);
        }
      };
      consider(this.byType.get(event.event_type));
      consider(this.wildcard);
      consider(this.everything);
      // Serialized once per event and format, however many sockets it goes to.
      const texts: Partial<Record<EventFormat, string>> = {};
      const frame = (format: EventFormat) => (texts[format] ??= eventFrame(event, format));
      for (const [sink, matched] of perSink) sink.offer(event, matched, frame);
    }
  }
}
