import type { FastifyBaseLogger } from 'fastify';
import type { Event } from '../schemas/event.js';
import type { Subscription } from '../schemas/subscription.js';
import type { SubscriptionRepository, SubscriptionWithSecrets } from '../store/subscription-repository.js';
import { and, parseFilter } from '../events/filter.js';
import { compileSelection, filtersObject, subscriptionSelection, type Selection } from '../events/selection.js';
import { isAlertAbout } from './system-alert.js';

interface Entry extends SubscriptionWithSecrets {
  matches: (event: Event) => boolean;
}

/**
 * Every subscription in memory, so the committer matches events against the webhook subscriptions without
 * reading the table per event. It reloads after a change made through this process, and when the shared
 * change counter moved (a change made by another replica): at most `refreshMs` late.
 */
export class SubscriptionIndex {
  private byId = new Map<string, Entry>();
  /** Active subscriptions with a callback_url: the ones that get deliveries. */
  private targets: Entry[] = [];
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly repo: SubscriptionRepository,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Loads now and then checks the change counter every `refreshMs`. */
  async start(refreshMs: number): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.refreshIfChanged().catch((err) => this.log.warn({ err }, 'subscription refresh failed')), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads every subscription; concurrent calls share one read that starts after the latest change. */
  async reload(): Promise<void> {
    const previous = this.loading ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => {
      const version = await this.repo.version();
      const all = await this.repo.listWithSecrets();
      this.byId = new Map(all.map((s) => [s.subscription.subscription_id, { ...s, matches: matcherOf(s.subscription) }]));
      this.targets = [...this.byId.values()].filter((e) => e.subscription.is_active && e.subscription.callback_url !== null);
      this.version = version;
    });
    this.loading = next.finally(() => {
      if (this.loading === next) this.loading = null;
    });
    return next;
  }

  async refreshIfChanged(): Promise<void> {
    if ((await this.repo.version()) !== this.version) await this.reload();
  }

  get(id: string): SubscriptionWithSecrets | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.targets.length;
  }

  /** Active subscriptions with a callback_url, ids only: the ones the log dispatcher delivers. */
  targetIds(): string[] {
    return this.targets.map((t) => t.subscription.subscription_id).sort();
  }

  /** Whether the subscription matches the event (false when it is unknown). */
  matches(id: string, event: Event): boolean {
    return this.byId.get(id)?.matches(event) ?? false;
  }
}

/** Its `event_types`, `filters` and `filter`, validated when the subscription was created or patched. */
export function selectionOf(subscription: Subscription): Selection {
  return subscriptionSelection(subscription.event_types, and(...filtersObject(subscription.filters), parseFilter(subscription.filter ?? {})));
}

export function matcherOf(subscription: Subscription): (event: Event) => boolean {
  const matches = compileSelection(selectionOf(subscription));
  // An endpoint's own health alerts are not sent to it: a failing endpoint would only fail them too.
  return (event) => matches(event) && !isAlertAbout(event, subscription.subscription_id);
}
