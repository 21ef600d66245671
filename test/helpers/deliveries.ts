/** Reading webhook deliveries back over HTTP, for tests that run the real server process. */

export interface DeliveryView {
  delivery_id: string;
  event_id: string;
  subscription_id: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  attempts_log?: Array<{ attempt: number; status_code: number | null; webhook_id: string; error: string | null }>;
}

/** The JSON body of `res`; a non-JSON body throws with its text. */
export async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${res.url} answered ${res.status} with a non-JSON body: ${text}`);
  }
}

/** Every delivery of a subscription, following next_cursor. */
export async function allDeliveries(url: string, subscriptionId: string): Promise<DeliveryView[]> {
  const out: DeliveryView[] = [];
  let after: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const res: Response = await fetch(`${url}/subscriptions/${subscriptionId}/deliveries?limit=1000${after ? `&after=${after}` : ''}`);
    const body: { deliveries: DeliveryView[]; next_cursor: string | null } = await json(res);
    if (res.status !== 200) throw new Error(`deliveries listing answered ${res.status}: ${JSON.stringify(body)}`);
    out.push(...body.deliveries);
    if (body.next_cursor === null) return out;
    after = body.next_cursor;
  }
  throw new Error('deliveries paging did not terminate');
}

/** Polls an asynchronous condition (a state read over HTTP) until it holds; fails with `describe()` at the deadline. */
export async function pollUntil(condition: () => Promise<boolean>, describe: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
