import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { LiveBus } from '../live/bus.js';
import { revokeToken, tokenVersions } from '../store/users.js';
import type { TokenClaims } from './tokens.js';

/**
 * Which tokens still count, checked on every request without a query:
 * - the logout denylist (`jti` → expiry), and
 * - each user's token version (claim `tv`): a role change, password reset or removal bumps it (a
 *   removed user has none), which ends every token the user held.
 * Both live in the database (a restarted replica knows them) and in memory. Other replicas hear of a
 * change at once through the bus (Redis); every replica also reloads both from the database every
 * `pollMs`, so with Redis down (or a change made by the CLI, which has no bus without Redis) a token
 * still stops working everywhere within that period. Listeners (the WebSocket) hear of every change.
 */
export class Revocations {
  private readonly revoked = new Map<string, number>();
  private readonly versions = new Map<number, number>();
  /** ids looked up since the last reload and not found (a removed user's token costs one query per period) */
  private readonly absent = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly bus: LiveBus,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = this.bus.subscribe((m) => {
      if (m.type === 'revoked') {
        this.revoked.set(m.data.jti, m.data.exp);
        this.changed();
      } else if (m.type === 'user-tokens') {
        this.setVersion(m.data.user_id, m.data.version);
        this.changed();
      }
    });
    this.timer = setInterval(() => {
      this.reload().catch((e) =>
        this.log.warn(
          { err: (e as Error).message },
          'token revocation reload failed; keeping the last state',
        ),
      );
    }, this.pollMs);
    this.timer.unref();
  }

  /** Reloads the denylist and every version; tells listeners when anything differs. */
  private async reload(): Promise<void> {
    const r = await this.db.query<{ jti: string; exp: number }>(
      'SELECT jti, extract(epoch FROM expires_at)::float8 AS exp FROM revoked_tokens WHERE expires_at > now()',
    );
    const versions = await tokenVersions(this.db);
    let differs = false;
    // Versions only grow and ids are never reused: a reload that raced a newer bus message must not
    // bring an older version back; an id gone from the table is a removed user.
    for (const id of this.versions.keys())
      if (!versions.has(id)) {
        this.versions.delete(id);
        differs = true;
      }
    for (const [id, v] of versions)
      if (v > (this.versions.get(id) ?? -1)) {
        if (this.versions.has(id)) differs = true;
        this.versions.set(id, v);
      }
    this.absent.clear();
    for (const x of r.rows)
      if (!this.revoked.has(x.jti)) {
        this.revoked.set(x.jti, x.exp);
        differs = true;
      }
    if (differs) this.changed();
  }

  private setVersion(userId: number, version: number | null) {
    if (version === null) this.versions.delete(userId);
    else if (version > (this.versions.get(userId) ?? -1)) this.versions.set(userId, version);
  }

  private changed() {
    for (const l of this.listeners) l();
  }

  /** `fn` runs after any change of the denylist or of a user's version (local, bus or reload). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async revoke(jti: string, exp: number): Promise<void> {
    await revokeToken(this.db, jti, exp);
    this.revoked.set(jti, exp);
    this.bus.publish({ type: 'revoked', data: { jti, exp } });
  }

  /** A user's tokens changed (new version, or null = removed): applied here, then on every replica. */
  userChanged(userId: number, version: number | null): void {
    this.bus.publish({ type: 'user-tokens', data: { user_id: userId, version } });
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

  /** Whether a verified token still counts: not logged out, not expired, its user's current version. */
  valid(claims: TokenClaims): boolean {
    if (this.has(claims.jti) || claims.exp * 1000 <= Date.now()) return false;
    return this.versions.get(Number(claims.sub)) === claims.tv;
  }

  /**
   * Like `valid`, but a user this replica has not heard of yet (registered on another replica a moment
   * ago, Redis down) is looked up once instead of refused.
   */
  async validOrLookup(claims: TokenClaims): Promise<boolean> {
    const id = Number(claims.sub);
    if (!this.versions.has(id) && !this.absent.has(id) && Number.isSafeInteger(id)) {
      const v = (await tokenVersions(this.db, id)).get(id);
      if (v === undefined) this.absent.add(id);
      else this.setVersion(id, v);
    }
    return this.valid(claims);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.listeners.clear();
    this.revoked.clear();
  }
}
