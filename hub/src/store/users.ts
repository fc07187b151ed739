import type { Role, User } from '@cityflow/protocol';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Db, Queryable } from '../db/db.js';

interface UserRow {
  id: number;
  email: string;
  role: Role;
  created_at: Date;
  password_hash: string;
  token_version: number;
}

/** A user with the version its tokens must carry (claim `tv`). */
export type UserWithVersion = User & { token_version: number };

const COLUMNS = 'id, email, role, created_at, password_hash, token_version';

export const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  role: r.role,
  created_at: r.created_at.toISOString(),
});
export const userWithVersion = (r: UserRow): UserWithVersion => ({
  ...toUser(r),
  token_version: r.token_version,
});
const withVersion = userWithVersion;

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | null> {
  const r = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email.toLowerCase()]);
  return r.rows[0] ?? null;
}

/** Inserts a user; null when the email is taken. */
export async function createUser(
  db: Queryable,
  email: string,
  password: string,
  role: Role,
): Promise<UserWithVersion | null> {
  const hash = await hashPassword(password);
  const r = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
    [email.toLowerCase(), hash, role],
  );
  return r.rows[0] ? withVersion(r.rows[0]) : null;
}

/**
 * Creates the user or resets its password and role (CITYFLOW_ADMIN_* at start, `users add` on an
 * existing email). Its tokens end only when something changed: the admin of CITYFLOW_ADMIN_* is
 * upserted at every start, and a restart must not log every admin out.
 */
export async function upsertUser(
  db: Queryable,
  email: string,
  password: string,
  role: Role,
): Promise<{ user: UserWithVersion; changed: boolean }> {
  const old = await findUserByEmail(db, email);
  if (old && old.role === role && (await verifyPassword(password, old.password_hash)))
    return { user: withVersion(old), changed: false };
  const hash = await hashPassword(password);
  const r = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
       token_version = users.token_version + 1
     RETURNING ${COLUMNS}`,
    [email.toLowerCase(), hash, role],
  );
  return { user: withVersion(r.rows[0]!), changed: old !== null };
}

/** Outcome of an admin action on a user. */
export type UserChange =
  | { ok: true; user: UserWithVersion }
  | { ok: false; code: 'CF_NOT_FOUND' | 'CF_CONFLICT'; message: string };

const notFound = (email: string): UserChange => ({
  ok: false,
  code: 'CF_NOT_FOUND',
  message: `no user ${email}`,
});

/**
 * Runs `change` on the user's row inside a transaction that holds every admin row: demoting or
 * removing the last admin is refused (nobody could manage users any more), also when two admins act
 * at once on two replicas.
 */
async function changeUser(
  db: Db,
  email: string,
  dropsAdmin: (row: UserRow) => boolean,
  change: (tx: Queryable, row: UserRow) => Promise<UserRow | null>,
): Promise<UserChange> {
  return db.transaction(async (tx) => {
    const admins = await tx.query<{ id: number }>("SELECT id FROM users WHERE role = 'admin' FOR UPDATE");
    const r = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1 FOR UPDATE`, [
      email.toLowerCase(),
    ]);
    const row = r.rows[0];
    if (!row) return notFound(email);
    if (row.role === 'admin' && dropsAdmin(row) && admins.rows.length <= 1)
      return { ok: false, code: 'CF_CONFLICT', message: `${row.email} is the last admin` };
    const after = await change(tx, row);
    return after ? { ok: true, user: withVersion(after) } : notFound(email);
  });
}

/** Sets the role; every token of the user ends (the role is in the token). */
export function setUserRole(db: Db, email: string, role: Role): Promise<UserChange> {
  return changeUser(
    db,
    email,
    () => role !== 'admin',
    async (tx, row) =>
      (
        await tx.query<UserRow>(
          `UPDATE users SET role = $2, token_version = token_version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
          [row.id, role],
        )
      ).rows[0] ?? null,
  );
}

/** Sets a new password; every token of the user ends. */
export async function resetUserPassword(db: Db, email: string, password: string): Promise<UserChange> {
  const hash = await hashPassword(password);
  return changeUser(
    db,
    email,
    () => false,
    async (tx, row) =>
      (
        await tx.query<UserRow>(
          `UPDATE users SET password_hash = $2, token_version = token_version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
          [row.id, hash],
        )
      ).rows[0] ?? null,
  );
}

/** Deletes the user; its tokens end because its id no longer has a version. */
export function removeUser(db: Db, email: string): Promise<UserChange> {
  return changeUser(
    db,
    email,
    () => true,
    async (tx, row) =>
      (await tx.query<UserRow>(`DELETE FROM users WHERE id = $1 RETURNING ${COLUMNS}`, [row.id])).rows[0] ??
      null,
  );
}

/** user id -> token version, for every user (the token check's table; users are few). */
export async function tokenVersions(db: Queryable, id?: number): Promise<Map<number, number>> {
  const r = await db.query<{ id: number; token_version: number }>(
    `SELECT id, token_version FROM users${id === undefined ? '' : ' WHERE id = $1'}`,
    id === undefined ? [] : [id],
  );
  return new Map(r.rows.map((x) => [x.id, x.token_version]));
}

export async function revokeToken(db: Queryable, jti: string, expS: number): Promise<void> {
  await db.query(
    'INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, to_timestamp($2)) ON CONFLICT DO NOTHING',
    [jti, expS],
  );
  await db.query('DELETE FROM revoked_tokens WHERE expires_at < now()');
}

export async function isRevoked(db: Queryable, jti: string): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti]);
  return r.rows.length > 0;
}
