import { CityFlowError } from '@cityflow/protocol';

/** The few hub API calls the demo needs (DESIGN.md, HTTP API). */
export class HubClient {
  private token: string | undefined;

  constructor(readonly apiUrl: string) {}

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const res = await fetch(this.apiUrl + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  /** True once `GET /health` answers 200. */
  async healthy(): Promise<boolean> {
    try {
      return (await this.call('GET', '/health')).status === 200;
    } catch {
      return false;
    }
  }

  async login(email: string, password: string): Promise<string> {
    const r = await this.call('POST', '/api/auth/login', { email, password });
    const token = (r.json as { token?: unknown } | null)?.token;
    if (r.status !== 200 || typeof token !== 'string')
      throw new CityFlowError(
        'CF_NOT_AUTHORIZED',
        `demo login failed: HTTP ${r.status} ${JSON.stringify(r.json)}`,
      );
    this.token = token;
    return token;
  }
}

/** `GET <agent http>/health` -> `hub_connected`, false while the agent does not answer. */
export async function agentHubConnected(httpUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { hub_connected?: unknown };
    return body.hub_connected === true;
  } catch {
    return false;
  }
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passed (then throws `what`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}
