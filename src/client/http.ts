import { HeraldError } from './errors.js';

/** The subset of `fetch` the client calls; inject one for timeouts, retries, proxies or tests. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export type QueryValue = string | number | boolean | readonly (string | number)[] | Readonly<Record<string, unknown>> | null | undefined;

/** `?a=1&b=x,y` from the defined values; arrays become Herald's comma lists, objects (a `filter`) JSON. */
export function queryString(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const text = Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
    search.set(name, text);
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/** JSON over HTTP with Herald's auth header and error body. */
export class HttpClient {
  readonly baseUrl: string;
  constructor(
    baseUrl: string,
    readonly apiKey: string | undefined,
    private readonly fetchImpl: FetchLike,
  ) {
    // A base with a path prefix (a reverse proxy) must keep it, so paths are appended rather than resolved.
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    // Herald refuses a JSON content-type with an empty body, so bodiless POSTs send none.
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetchImpl(`${this.baseUrl}${path}${queryString(options.query ?? {})}`, {
      method,
      headers,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    if (!response.ok) throw errorOf(response, text);
    // The client trusts the server's answer to match its schema: validating it would ship TypeBox to browsers.
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A GET of one resource by id: 404 is an answer (`undefined`), not an error. */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (err) {
      if (err instanceof HeraldError && err.status === 404) return undefined;
      throw err;
    }
  }
}

function errorOf(response: Response, text: string): HeraldError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const error = body.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new HeraldError(response.status, error.code, error.message, error.details);
    }
  } catch {
    // Not Herald's JSON (a proxy's HTML page, say): fall through to a generic error.
  }
  return new HeraldError(response.status, `http_${response.status}`, text.slice(0, 500) || response.statusText);
}

export const segment = (id: string) => encodeURIComponent(id);
