import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MetaStore } from '../storage/meta-store.js';
import { OutboxStore } from '../storage/outbox-store.js';
import { ReadingsStore } from '../storage/readings-store.js';
import { DB_FILE, type Db, openDb, SCHEMA_VERSION } from '../storage/sqlite.js';

/** Thrown by verbs to exit non-zero with a message (and a JSON error document under --json). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly doc?: unknown,
  ) {
    super(message);
  }
}

/**
 * Opens an agent's SQLite file for inspection, read-only (no migration, nothing written), while the
 * agent may be running (WAL allows it). A file of an older schema is reported, not upgraded.
 */
export function openStores(dataDir: string): {
  db: Db;
  meta: MetaStore;
  outbox: OutboxStore;
  readings: ReadingsStore;
} {
  if (!existsSync(join(dataDir, DB_FILE)))
    throw new CliFailure(`no agent database in ${dataDir} (${DB_FILE} missing): check --data-dir`);
  const db = openDb(dataDir, { readonly: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    db.close();
    throw new CliFailure(
      `${join(dataDir, DB_FILE)} has schema v${version}, older than this agent's v${SCHEMA_VERSION}: start the agent once to migrate it (inspection never writes)`,
    );
  }
  return { db, meta: new MetaStore(db), outbox: new OutboxStore(db), readings: new ReadingsStore(db) };
}

export function print(json: boolean, doc: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(doc)}\n` : `${human()}\n`);
}
