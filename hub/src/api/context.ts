import type { AgentCredentials, Network, Role } from '@cityflow/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Revocations } from '../auth/revocations.js';
import type { TokenClaims, TokenService } from '../auth/tokens.js';
import type { HubClock } from '../clock.js';
import type { HubConfig } from '../config.js';
import type { Db } from '../db/db.js';
import type { StorageInfo } from '../db/storage-policy.js';
import type { LiveBus } from '../live/bus.js';
import type { ResponseCache } from '../live/cache.js';
import type { HubMetrics } from '../metrics.js';
import { ApiError } from './errors.js';

/** What the HTTP layer needs from the hub (collaborators are started before the app is built). */
export interface AppContext {
  config: HubConfig;
  db: Db;
  net: Network;
  clock: HubClock;
  metrics: HubMetrics;
  cache: ResponseCache;
  bus: LiveBus;
  tokens: TokenService;
  revocations: Revocations;
  /** creates an agent (null when it exists) */
  addAgent(agentId: string): Promise<AgentCredentials | null>;
  /** new secret; the agent's live MQTT session is closed (null when there is no such agent) */
  rotateAgent(agentId: string): Promise<AgentCredentials | null>;
  /** disable (live session closed, logins refused) or enable; false when there is no such agent */
  setAgentDisabled(agentId: string, disabled: boolean): Promise<boolean>;
  /** publishes on the hub's broker connection */
  publish(topic: string, payload: unknown, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** whether this replica currently runs the singleton cycle */
  cycleLeader(): boolean;
  /** active-clock time of the last prediction + reroute cycle this replica ran (ms), null before one */
  lastCycleAt(): number | null;
  /** storage backend and TimescaleDB features in place (read at start) */
  storage: StorageInfo;
  /** true when the hub can take data (database and broker up) */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

declare module 'fastify' {
  interface FastifyRequest {
    claims?: TokenClaims;
  }
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const q = (req.query as { token?: unknown } | undefined)?.token;
  // Only the WebSocket may carry its token in the query (browsers cannot set headers on it).
  if (typeof q === 'string' && req.url.startsWith('/ws/')) return q;
  return undefined;
}

/** preHandler: a valid, unrevoked JWT whose role is at least `min` (viewer < operator < admin). */
export function requireRole(ctx: AppContext, min: Role) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = bearer(req);
    if (!token) throw new ApiError(401, 'CF_UNAUTHORIZED', 'missing bearer token');
    const claims = await ctx.tokens.verify(token);
    // signature, expiry, logout, and the user's token version (role change, password reset, removal)
    if (!claims || !(await ctx.revocations.validOrLookup(claims)))
      throw new ApiError(401, 'CF_UNAUTHORIZED', 'invalid or expired token');
    if (RANK[claims.role] < RANK[min]) throw new ApiError(403, 'CF_FORBIDDEN', `this needs the ${min} role`);
    req.claims = claims;
  };
}

export const errorResponses = {
  400: { $ref: 'ApiError#' },
  401: { $ref: 'ApiError#' },
  403: { $ref: 'ApiError#' },
};
