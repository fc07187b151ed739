import type { Db } from '../db/db.js';
import type { LiveBus } from '../live/bus.js';
import { revokeToken } from '../store/users.js';

/**
 * Logout denylist. Stored in the database (so a restarted replica knows it) and held in memory (so a
 * request costs no query); other replicas hear of a logout at once through the bus (Redis when shared).
 */
export class Revocations {
  private readonly revoked = new Map<string, number>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly bus: LiveBus,
  ) {}

  async start(): Promise<void> {
    const r = await this.db.query<{ jti: string; exp: number }>(
      'SELECT jti, extract(epoch FROM expires_at)::float8 AS exp FROM revoked_tokens WHERE expires_at > now()',
    );
    for (const x of r.rows) this.revoked.set(x.jti, x.exp);
    this.unsubscribe = this.bus.subscribe((m) => {
      if (m.type === 'revoked') this.revoked.set(m.data.jti, m.data.exp);
    });
  }

  async revoke(jti: string, exp: number): Promise<void> {
    await revokeToken(this.db, jti, exp);
    this.revoked.set(jti, exp);
    this.bus.publish({ type: 'revoked', data: { jti, exp } });
  }

  has(jti: string): boolean {
    const exp = this.revoked.get(jti);
    if (exp === undefined) return false;
    if (exp * 1000 < Date.now()) {
      this.revoked.delete(jti);
      return false;
    }
    return true;
  }

  stop(): void {
    this.unsubscribe?.();
    this.revoked.clear();
  }
}
