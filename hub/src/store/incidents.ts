import type { Incident } from '@cityflow/protocol';
import type { PageCursor } from '../api/pagination.js';
import type { Queryable } from '../db/db.js';

interface Row {
  incident_id: string;
  road_id: string;
  detected_at: Date;
  cleared_at: Date | null;
  confidence: number;
  reason: string;
}
const toIncident = (r: Row): Incident => ({
  incident_id: r.incident_id,
  road_id: r.road_id,
  detected_at: new Date(r.detected_at).toISOString(),
  cleared_at: r.cleared_at === null ? null : new Date(r.cleared_at).toISOString(),
  confidence: Number(r.confidence),
  reason: r.reason,
});

/** Inserts a new incident or updates its confidence, reason and clearing (the detector owns the id). */
export async function upsertIncident(db: Queryable, i: Incident): Promise<void> {
  await db.query(
    `INSERT INTO incidents (incident_id, road_id, detected_at, cleared_at, confidence, reason)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (incident_id) DO UPDATE SET cleared_at = EXCLUDED.cleared_at, confidence = EXCLUDED.confidence,
       reason = EXCLUDED.reason`,
    [i.incident_id, i.road_id, i.detected_at, i.cleared_at, i.confidence, i.reason],
  );
}

/** Incidents not cleared yet (a new cycle leader resumes them). */
export async function activeIncidents(db: Queryable): Promise<Incident[]> {
  const r = await db.query<Row>('SELECT * FROM incidents WHERE cleared_at IS NULL ORDER BY detected_at');
  return r.rows.map(toIncident);
}

/** Newest first; cursor = (detected_at, incident_id); `active` = not cleared. */
export async function listIncidents(
  db: Queryable,
  q: { active: boolean; limit: number; before: PageCursor | null },
): Promise<Incident[]> {
  const r = await db.query<Row>(
    `SELECT * FROM incidents
     WHERE ($1::boolean IS FALSE OR cleared_at IS NULL)
       AND ($2::timestamptz IS NULL OR detected_at < $2 OR (detected_at = $2 AND $3::text IS NOT NULL AND incident_id < $3))
     ORDER BY detected_at DESC, incident_id DESC LIMIT $4`,
    [q.active, q.before?.ts ?? null, q.before?.key ?? null, q.limit + 1],
  );
  return r.rows.map(toIncident);
}
