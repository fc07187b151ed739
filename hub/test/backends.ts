import pino from 'pino';
import { describe } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import type { StorageBackend } from '../src/db/db.js';
import { freshSchemaUrl } from './pg-schema.js';

/** A database URL of one backend for one test file, and how to throw it away afterwards. */
export interface BackendDb {
  url: string;
  drop(): Promise<void>;
}

export const silentLog = pino({ level: 'silent' });

/**
 * Runs `fn` once per storage backend: both PGlite builds (embedded, always) and PostgreSQL (a fresh
 * schema on CITYFLOW_TEST_PG_URL; skipped visibly without it, a failure under CITYFLOW_REQUIRE_SERVICES).
 * Suites that must hold on every backend use this instead of naming one.
 */
export function describeEachBackend(
  title: string,
  fn: (backend: StorageBackend, db: () => Promise<BackendDb>) => void,
  backends: StorageBackend[] = ['pglite', 'pglite+timescaledb', 'postgres'],
): void {
  for (const b of backends) {
    if (b === 'postgres')
      describeWithService('PG', `${title} [postgres]`, (url) => fn(b, () => freshSchemaUrl(url)));
    else
      describe(`${title} [${b}]`, () => fn(b, async () => ({ url: `${b}://memory`, drop: async () => {} })));
  }
}

/** `CALL run_job` for this schema's policy jobs of one kind (PGlite has no background workers). */
export async function runJobs(
  db: { query<T>(sql: string, p?: unknown[]): Promise<{ rows: T[] }> },
  proc: 'policy_compression' | 'policy_retention' | 'policy_refresh_continuous_aggregate',
): Promise<number> {
  const jobs = await db.query<{ job_id: number }>(
    `SELECT job_id FROM timescaledb_information.jobs
     WHERE proc_name = $1 AND hypertable_schema = current_schema() ORDER BY job_id`,
    [proc],
  );
  for (const j of jobs.rows) await db.query(`CALL run_job(${j.job_id})`);
  return jobs.rows.length;
}
