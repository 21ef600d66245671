// Fetch wrapper: JSON in and out, the stored API key as a Bearer header, and one place that notices 401s.

const STORAGE_KEY = 'herald.apiKey';

/** Fires 'required' (detail: the ApiError) when the API answers 401, and 'change' when the key changes. */
export const authEvents = new EventTarget();

export function getKey() {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    return ''; // storage disabled (private mode policies): run keyless
  }
}

export function setKey(key) {
  if (key) localStorage.setItem(STORAGE_KEY, key);
  else localStorage.removeItem(STORAGE_KEY);
  authEvents.dispatchEvent(new Event('change'));
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Calls Herald's API; resolves with the JSON body or throws ApiError with Herald's error code and message. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const key = getKey();
  if (key) headers.authorization = `Bearer ${key}`;
  // Only with a body: Fastify refuses an empty body declared as JSON (POST /deliveries/:id/retry has none).
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'network_error', `Herald is unreachable (${err.message})`);
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const error = new ApiError(
    response.status,
    data?.error?.code ?? 'http_error',
    data?.error?.message ?? `${response.status} ${response.statusText}`,
    data?.error?.details,
  );
  if (response.status === 401) authEvents.dispatchEvent(new CustomEvent('required', { detail: error }));
  throw error;
}

/**
 * Whether the key may manage subscriptions: learned from the first admin call's answer. `body[data-admin]`
 * hides every `[data-needs="admin"]` control for a key without the scope, so no button is there to fail.
 */
export function setAdmin(allowed) {
  document.body.dataset.admin = allowed ? 'yes' : 'no';
}
export const isAdmin = () => document.body.dataset.admin !== 'no';

/** Field errors from a 400's details, by the top-level field they name ('' for the body as a whole). */
export function fieldErrors(err) {
  const found = new Map();
  for (const detail of Array.isArray(err?.details) ? err.details : []) {
    const path = String(detail.path ?? '').split('/').filter(Boolean);
    const field = path[0] ?? detail.params?.missingProperty ?? detail.params?.additionalProperty ?? '';
    const text = `${path.length ? `${path.join('.')}: ` : ''}${detail.message ?? ''}`;
    found.set(field, [...(found.get(field) ?? []), text]);
  }
  return found;
}

/** A one-line explanation for a panel; a 403 names the scope problem rather than a generic failure. */
export function describeError(err) {
  if (err instanceof ApiError && err.status === 403) return `Forbidden: ${err.message}`;
  if (err instanceof ApiError && err.status === 401) return 'An API key is needed.';
  return err.message;
}
