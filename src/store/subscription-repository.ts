import { RecordId, type Surreal } from 'surrealdb';
import type { Subscription } from '../schemas/subscription.js';
import { isWriteConflict, retryTransaction } from './transaction-errors.js';
import { healthView, type StoredHealth } from '../webhooks/endpoint-health.js';

/** A signing secret; `until` (epoch ms) is set on a secret that a rotation replaced. */
export interface SigningSecret {
  secret: string;
  until?: number;
}

/** The secrets that sign at `now`, current first: a replaced one until its overlap ends. */
export const liveSecrets = (secrets: readonly SigningSecret[], now: number): string[] =>
  secrets.filter((s) => s.until === undefined || s.until > now).map((s) => s.secret);

interface SubscriptionRow extends Omit<Subscription, 'subscription_id' | 'health' | 'rate_limit'> {
  id: RecordId<'subscription'>;
  secrets: SigningSecret[];
  rate_limit?: number | null;
  /** Written by the endpoint gate on every change of state (src/webhooks/endpoint-gate.ts). */
  endpoint_health?: StoredHealth;
}

/** The fields a change may set: the API's, and the endpoint's stored health. */
export type SubscriptionChanges = Partial<Omit<Subscription, 'subscription_id' | 'created_at' | 'health'>> & { endpoint_health?: StoredHealth };

/** A subscription with the secrets that sign its deliveries (never shown by the API after creation). */
export interface SubscriptionWithSecrets {
  subscription: Subscription;
  secrets: SigningSecret[];
  endpointHealth?: StoredHealth;
}

const toSubscription = ({ id, secrets: _secrets, endpoint_health, ...rest }: SubscriptionRow): Subscription => {
  const failing_since = rest.failing_since ?? null;
  return {
    subscription_id: String(id.id),
    ...rest,
    // Subscriptions created before the filter language, formats and throttles have none.
    filter: rest.filter ?? {},
    format: rest.format ?? 'seed',
    failing_since,
    rate_limit: rest.rate_limit ?? null,
    ordering_key: rest.ordering_key ?? null,
    health: healthView(endpoint_health, { is_active: rest.is_active, failing_since, disabled_reason: rest.disabled_reason }),
  };
};
/** Every change bumps this counter; replicas poll it and reload their subscription index when it moves. */
// `SET value += 1`: in SurrealDB 3.0.2 an UPSERT's `SET value = value + 1` does not see the stored value (always 1).
const BUMP = 'UPSERT herald_seq:subscriptions SET value += 1 RETURN NONE';
/** A new subscription's log cursor starts at the current seq: it gets the events published from now on (docs/webhooks.md). */
const CURSOR_AT_NOW = 'INSERT IGNORE INTO wh_cursor { id: $cursor, seq: herald_seq:event.value ?? 0, above: [] } RETURN NONE';
const rid = (id: string) => new RecordId('subscription', id);

/** Attempts of a subscription change that keeps losing the change counter to concurrent changes. */
const CHANGE_ATTEMPTS = 8;

/** All SurrealQL about webhook subscriptions. */
export class SubscriptionRepository {
  constructor(private readonly db: Surreal) {}

  /**
   * Runs `statement` and the counter bump as one transaction. Every change writes the one counter row, so
   * concurrent changes (two API calls, or one and the idle-subscription rule) conflict: the loser's whole
   * transaction is rolled back and runs again, rather than failing the request.
   */
  private async change<T>(statement: string, vars: Record<string, unknown>): Promise<T> {
    return retryTransaction(CHANGE_ATTEMPTS, async () => {
      // BEGIN answers a result of its own (null): the statement's is the second.
      const [, result] = await this.db.query<[null, T]>(`BEGIN TRANSACTION; ${statement}; ${BUMP}; COMMIT TRANSACTION;`, vars).collect();
      return result;
    }, isWriteConflict, 5);
  }

  async create(subscription: Subscription, secret: string): Promise<void> {
    const { subscription_id, health: _health, ...fields } = subscription;
    await this.change(`CREATE $id CONTENT $content RETURN NONE; ${CURSOR_AT_NOW}`, {
      id: rid(subscription_id),
      cursor: new RecordId('wh_cursor', subscription_id),
      content: { ...fields, secrets: [{ secret }] },
    });
  }

  async get(id: string): Promise<Subscription | undefined> {
    const [row] = await this.db.query<[SubscriptionRow | undefined]>('SELECT * FROM ONLY $id', { id: rid(id) }).collect();
    return row ? toSubscription(row) : undefined;
  }

  async list(subscriberName?: string): Promise<Subscription[]> {
    const [rows] = subscriberName === undefined
      ? await this.db.query<[SubscriptionRow[]]>('SELECT * FROM subscription').collect()
      : await this.db.query<[SubscriptionRow[]]>('SELECT * FROM subscription WHERE subscriber_name = $name', { name: subscriberName }).collect();
    return rows.map(toSubscription).sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /**
   * Sets each field in `changes` to its new value as a whole: a `filters` object replaces the stored one
   * (MERGE would merge it into it, and `{}` would change nothing). Undefined when there is no such subscription.
   */
  async update(id: string, changes: SubscriptionChanges): Promise<Subscription | undefined> {
    const row = await this.change<SubscriptionRow | undefined>('UPDATE ONLY $id REPLACE object::extend($this, $changes) RETURN AFTER', { id: rid(id), changes });
    return row ? toSubscription(row) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const row = await this.change<SubscriptionRow | undefined>('DELETE ONLY $id RETURN BEFORE; DELETE $cursor RETURN NONE', {
      id: rid(id), cursor: new RecordId('wh_cursor', id),
    });
    return row !== undefined && row !== null;
  }

  /** Adds a new current secret; the previous ones keep signing until `oldUntil`, expired ones are dropped. */
  async rotate(id: string, secret: string, oldUntil: number, now: number): Promise<boolean> {
    const row = await this.change<SubscriptionRow | undefined>(
      `UPDATE ONLY $id SET secrets = array::concat(
         [{ secret: $secret }],
         secrets.filter(|$s| $s.until = NONE OR $s.until > $now).map(|$s| { secret: $s.secret, until: $s.until ?? $old_until })
       ), updated_at = $updated RETURN AFTER`,
      { id: rid(id), secret, old_until: oldUntil, now, updated: new Date(now).toISOString() },
    );
    return row !== undefined && row !== null;
  }

  /** Every subscription with its secrets: what the webhook index loads. */
  async listWithSecrets(): Promise<SubscriptionWithSecrets[]> {
    const [rows] = await this.db.query<[SubscriptionRow[]]>('SELECT * FROM subscription').collect();
    return rows.map((row) => ({ subscription: toSubscription(row), secrets: row.secrets, ...(row.endpoint_health && { endpointHealth: row.endpoint_health }) }));
  }

  /** The change counter (see BUMP); 0 before any change. */
  async version(): Promise<number> {
    const [value] = await this.db
      .query<[number | undefined]>('RETURN (SELECT VALUE value FROM ONLY herald_seq:subscriptions) ?? 0')
      .collect();
    return value ?? 0;
  }

  /** Deactivates the active subscriptions whose last delivery is older than `before`; returns their ids. */
  async deactivateIdle(before: string, reason: string, now: string): Promise<string[]> {
    return this.change<string[]>(
      `UPDATE subscription SET is_active = false, disabled_reason = $reason, updated_at = $now
         WHERE is_active = true AND last_activity != NONE AND last_activity != NULL AND last_activity < $before
         RETURN VALUE record::id(id)`,
      { before, reason, now },
    );
  }

  /** The secrets that sign right now, current first. */
  async signingSecrets(id: string, now: number): Promise<string[]> {
    const [row] = await this.db.query<[SubscriptionRow | undefined]>('SELECT secrets FROM ONLY $id', { id: rid(id) }).collect();
    return liveSecrets(row?.secrets ?? [], now);
  }
}
