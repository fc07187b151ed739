import type { Page } from '@cityflow/protocol';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Typed JSON client for the hub API. A 401 ends the session (expired or revoked token) through
 * `onUnauthorized`; every other error is an ApiRequestError carrying the API's stable code.
 */
export class Api {
  constructor(
    private readonly token: () => string | null,
    private readonly onUnauthorized: () => void,
    private readonly base = '',
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && token) this.onUnauthorized();
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiRequestError(res.status, err?.code ?? 'CF_HTTP', err?.message ?? res.statusText);
    }
    return json as T;
  }

  get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return this.request<T>('GET', qs ? `${path}?${qs}` : path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** Follows `next_cursor` until the list ends or `maxPages` pages were read. */
  async all<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
    maxPages = 50,
  ): Promise<T[]> {
    const out: T[] = [];
    let before: string | undefined;
    for (let i = 0; i < maxPages; i++) {
      const page = await this.get<Page<T>>(path, { ...query, limit: 200, before });
      out.push(...page.data);
      if (!page.has_more || !page.next_cursor) break;
      before = page.next_cursor;
    }
    return out;
  }
}
