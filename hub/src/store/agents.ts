import type { AgentAlarm, AgentCredentials, AgentInfo } from '@cityflow/protocol';
import { mosquittoHash, newAgentSecret, sha256Hex } from '../auth/passwords.js';
import type { Queryable } from '../db/db.js';

/** Creates an agent with fresh credentials; null when it exists already (use rotateAgentCredentials). */
export async function createAgent(db: Queryable, agentId: string): Promise<AgentCredentials | null> {
  const r = await db.query(
    'INSERT INTO agents (agent_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING agent_id',
    [agentId],
  );
  if (!r.rows.length) return null;
  return rotateAgentCredentials(db, agentId);
}

/** New random secret for an existing agent (the old one stops working); the secret is returned once. */
export async function rotateAgentCredentials(
  db: Queryable,
  agentId: string,
  password: string = newAgentSecret(),
): Promise<AgentCredentials> {
  await db.query(
    `INSERT INTO agent_credentials (agent_id, username, password_sha256, mosquitto_hash) VALUES ($1, $1, $2, $3)
     ON CONFLICT (agent_id) DO UPDATE SET password_sha256 = EXCLUDED.password_sha256,
       mosquitto_hash = EXCLUDED.mosquitto_hash, rotated_at = now()`,
    [agentId, sha256Hex(password), mosquittoHash(password)],
  );
  return { agent_id: agentId, username: agentId, password };
}

/** The agent exists with exactly this secret (CITYFLOW_AGENTS_FILE); its credentials change only if they differ. */
export async function ensureAgent(db: Queryable, agentId: string, password: string): Promise<void> {
  await db.query('INSERT INTO agents (agent_id) VALUES ($1) ON CONFLICT DO NOTHING', [agentId]);
  const c = await credentialHash(db, agentId);
  if (c?.agentId === agentId && c.sha256 === sha256Hex(password)) return;
  await rotateAgentCredentials(db, agentId, password);
}

export async function agentExists(db: Queryable, agentId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM agents WHERE agent_id = $1', [agentId])).rows.length > 0;
}

export async function credentialHash(
  db: Queryable,
  username: string,
): Promise<{ agentId: string; sha256: string; disabled: boolean } | null> {
  const r = await db.query<{ agent_id: string; password_sha256: string; disabled: boolean }>(
    `SELECT c.agent_id, c.password_sha256, a.disabled_at IS NOT NULL AS disabled
     FROM agent_credentials c JOIN agents a USING (agent_id) WHERE c.username = $1`,
    [username],
  );
  const row = r.rows[0];
  return row ? { agentId: row.agent_id, sha256: row.password_sha256, disabled: row.disabled } : null;
}

/** Disables (no login until enabled) or enables an agent; false when there is no such agent. */
export async function setAgentDisabled(db: Queryable, agentId: string, disabled: boolean): Promise<boolean> {
  const r = await db.query(
    `UPDATE agents SET disabled_at = CASE WHEN $2::boolean THEN coalesce(disabled_at, now()) END
     WHERE agent_id = $1 RETURNING agent_id`,
    [agentId, disabled],
  );
  return r.rows.length > 0;
}

export async function allCredentials(
  db: Queryable,
): Promise<Array<{ username: string; mosquitto_hash: string }>> {
  const r = await db.query<{ username: string; mosquitto_hash: string }>(
    // a disabled agent is left out of the Mosquitto password file: it cannot log in there either
    `SELECT c.username, c.mosquitto_hash FROM agent_credentials c JOIN agents a USING (agent_id)
     WHERE a.disabled_at IS NULL ORDER BY c.username`,
  );
  return r.rows;
}

/**
 * Status from the retained status message / last will, applied in arrival order: a last will carries
 * the time of the connect that registered it, so its ts is older than the online message it overrides.
 */
export async function setAgentStatus(
  db: Queryable,
  agentId: string,
  online: boolean,
  ts: string,
  version: string | null,
) {
  await db.query(
    // An upsert: behind an external broker an agent may be known to the broker before this database.
    `INSERT INTO agents (agent_id, online, status_ts, last_seen, version) VALUES ($1, $2, $3, now(), $4)
     ON CONFLICT (agent_id) DO UPDATE SET online = $2, status_ts = $3, last_seen = now(),
       version = coalesce($4, agents.version)`,
    [agentId, online, ts, version],
  );
}

export async function setAgentHealth(
  db: Queryable,
  agentId: string,
  backlog: number,
  skew: number | null,
  version: string,
  alarms: AgentAlarm[] = [],
) {
  await db.query(
    'UPDATE agents SET last_seen = now(), backlog = $2, clock_skew_s = $3, version = $4, alarms = $5::jsonb WHERE agent_id = $1',
    [agentId, backlog, skew, version, JSON.stringify(alarms)],
  );
}

export async function touchAgent(db: Queryable, agentId: string) {
  await db.query('UPDATE agents SET last_seen = now() WHERE agent_id = $1', [agentId]);
}

interface AgentRow {
  agent_id: string;
  online: boolean;
  last_seen: Date | null;
  backlog: number | null;
  clock_skew_s: number | null;
  version: string | null;
  alarms: AgentAlarm[] | null;
}

export const toAgentInfo = (r: AgentRow): AgentInfo => ({
  agent_id: r.agent_id,
  online: r.online,
  last_seen: r.last_seen ? r.last_seen.toISOString() : null,
  backlog: r.backlog,
  clock_skew_s: r.clock_skew_s,
  version: r.version,
  alarms: r.alarms ?? [],
});

/**
 * Page of agents ordered by id; `after` is the last id of the previous page; `seenBefore` (an RFC 3339
 * time) keeps only agents last seen before it.
 */
export async function listAgents(
  db: Queryable,
  limit: number,
  after: string | null,
  seenBefore: string | null = null,
): Promise<AgentInfo[]> {
  const r = await db.query<AgentRow>(
    `SELECT agent_id, online, last_seen, backlog, clock_skew_s, version, alarms FROM agents
     WHERE ($1::text IS NULL OR agent_id > $1) AND ($3::timestamptz IS NULL OR last_seen < $3)
     ORDER BY agent_id LIMIT $2`,
    [after, limit, seenBefore],
  );
  return r.rows.map(toAgentInfo);
}

export async function getAgent(db: Queryable, agentId: string): Promise<AgentInfo | null> {
  const r = await db.query<AgentRow>(
    'SELECT agent_id, online, last_seen, backlog, clock_skew_s, version, alarms FROM agents WHERE agent_id = $1',
    [agentId],
  );
  return r.rows[0] ? toAgentInfo(r.rows[0]) : null;
}
