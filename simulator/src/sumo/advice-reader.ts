import type { Incident, Page, Reroute } from '@cityflow/protocol';
import { HubClient } from '../demo/hub-client.js';

/** Reads the hub's advice as any API client would: `/health` for the cycle, the reroutes list. */
export class AdviceReader {
  private readonly hub: HubClient;
  private token = '';

  constructor(
    private readonly apiUrl: string,
    private readonly user: { email: string; password: string },
  ) {
    this.hub = new HubClient(apiUrl);
  }

  async login(): Promise<void> {
    this.token = await this.hub.login(this.user.email, this.user.password);
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(this.apiUrl + path, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** Waits until the hub's last cycle ran at data time ≥ `atMs`; false when `timeoutMs` passed first. */
  async waitForCycle(atMs: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const h = await this.get<{ last_cycle_at?: string | null }>('/health').catch(() => null);
      if (h?.last_cycle_at && Date.parse(h.last_cycle_at) >= atMs) return true;
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every incident the hub detected (newest first, up to 200). */
  async incidents(): Promise<Incident[]> {
    return (await this.get<Page<Incident>>('/api/incidents?limit=200')).data;
  }

  /** Every reroute in force, all pages. */
  async current(): Promise<Reroute[]> {
    const out: Reroute[] = [];
    let before: string | null = null;
    for (let i = 0; i < 50; i++) {
      const q: string = `/api/reroutes/recommended?limit=200${before ? `&before=${encodeURIComponent(before)}` : ''}`;
      const page: Page<Reroute> = await this.get<Page<Reroute>>(q);
      out.push(...page.data);
      if (!page.has_more || !page.next_cursor) break;
      before = page.next_cursor;
    }
    return out;
  }
}
