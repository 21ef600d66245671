import type { CursorRepository, CursorRow } from '../store/cursor-repository.js';

/** Which subscriptions this replica delivers: leases gained and lost in one maintenance pass. */
export interface LeaseChanges {
  gained: CursorRow[];
  lost: string[];
}

/**
 * The subscriptions one replica delivers. Each is leased (its cursor row's owner/until) for `leaseMs`,
 * renewed every lease/3; replicas announce themselves with a heartbeat row, and each holds at most
 * ceil(active subscriptions / live replicas), handing back idle extras so a replica that joins gets its
 * share. A lease nobody renewed (its replica died or hung) is taken over once it expires.
 */
export class LeaseKeeper {
  /** Subscription id → lease end (epoch ms) as last written. */
  private readonly held = new Map<string, number>();
  private readonly known = new Set<string>();
  private last = Number.NEGATIVE_INFINITY;
  private activeKey = '';

  constructor(
    readonly replica: string,
    private readonly cursors: CursorRepository,
    private readonly leaseMs: number,
  ) {}

  /** Whether this replica may send for the subscription now: it holds a lease that has not run out. */
  holds(subscriptionId: string, now: number): boolean {
    return (this.held.get(subscriptionId) ?? 0) > now;
  }

  get heldIds(): string[] {
    return [...this.held.keys()];
  }

  /**
   * Renews, rebalances and claims when due (every lease/3, when a held lease is half gone, or when the set of
   * active subscriptions changed). `idle` says which held subscriptions may be handed back without loss.
   */
  async maintain(now: number, monotonic: number, active: string[], idle: (id: string) => boolean): Promise<LeaseChanges> {
    const key = active.join(',');
    const halfGone = [...this.held.values()].some((until) => until - now < this.leaseMs / 2);
    if (monotonic - this.last < Math.min(this.leaseMs / 3, 5000) && key === this.activeKey && !halfGone) return { gained: [], lost: [] };
    this.last = monotonic;
    this.activeKey = key;
    try {
      return await this.rebalance(now, active, idle);
    } catch (err) {
      // Due again at the next pass.
      this.last = Number.NEGATIVE_INFINITY;
      throw err;
    }
  }

  private async rebalance(now: number, active: string[], idle: (id: string) => boolean): Promise<LeaseChanges> {
    const until = now + this.leaseMs;
    const replicas = Math.max(1, await this.cursors.heartbeat(this.replica, now, until));
    const kept = new Set(await this.cursors.renew(this.replica, [...this.held.keys()], until));
    const activeSet = new Set(active);
    // A deactivated subscription is handed back once idle: its last outcomes (the 410 that disabled it) are
    // written under the lease first.
    const lost = [...this.held.keys()].filter((id) => !kept.has(id) || (!activeSet.has(id) && idle(id)));
    for (const id of lost) this.held.delete(id);
    const stale = lost.filter((id) => kept.has(id));
    for (const id of kept) if (this.held.has(id)) this.held.set(id, until);

    // The share counts active subscriptions only: a deactivated one still writing its last outcomes takes none.
    const share = Math.ceil(active.length / replicas);
    const heldActive = [...this.held.keys()].filter((id) => activeSet.has(id));
    const extras = heldActive.filter(idle).slice(0, Math.max(0, heldActive.length - share));
    for (const id of extras) this.held.delete(id);
    await this.cursors.release(this.replica, [...stale, ...extras]);

    const gained: CursorRow[] = [];
    const room = share - (heldActive.length - extras.length);
    if (room > 0) {
      const fresh = active.filter((id) => !this.known.has(id));
      await this.cursors.ensure(fresh);
      for (const id of fresh) this.known.add(id);
      // Only leases that can be had: picking among all would mostly pick other replicas' live leases.
      const claimable = await this.cursors.claimable(this.replica, active.filter((id) => !this.held.has(id)), now);
      const candidates = shuffle(claimable).slice(0, room);
      for (const row of await this.cursors.claim(this.replica, candidates, now, until)) {
        const id = String(row.id.id);
        this.held.set(id, until);
        gained.push(row);
      }
    }
    return { gained, lost: [...lost, ...extras] };
  }

  /**
   * Stops counting these subscriptions as held (their windows were dropped): the next maintenance claims
   * them again, which reads their durable cursor, unless another replica took them over.
   */
  forget(subscriptionIds: string[]): void {
    for (const id of subscriptionIds) this.held.delete(id);
    if (subscriptionIds.length > 0) this.last = Number.NEGATIVE_INFINITY;
  }

  /** Hands every lease back (shutdown) so another replica takes over at once rather than after expiry. */
  async releaseAll(): Promise<void> {
    const ids = [...this.held.keys()];
    this.held.clear();
    await this.cursors.release(this.replica, ids);
    await this.cursors.leaveReplicas(this.replica);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
