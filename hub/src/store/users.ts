import type { Role, User } from '@cityflow/protocol';
import { hashPassword } from '../auth/passwords.js';
import type { Queryable } from '../db/db.js';

interface UserRow {
  id: number;
  email: string;
  role: Role;
  created_at: Date;
  password_hash: string;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  role: r.role,
  created_at: r.created_at.toISOString(),
});

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | null> {
  const r = await db.query<UserRow>(
    'SELECT id, email, role, created_at, password_hash FROM users WHERE email = $1',
    [email.toLowerCase()],
  );
  return r.rows[0] ?? null;
}

/** Inserts a user; null when the email is taken. */
export async function createUser(
  db: Queryable,
  email: string,
  password: string,
  role: Role,
): Promise<User | null> {
  const hash = await hashPassword(password);
  const r = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO NOTHING RETURNING id, email, role, created_at, password_hash`,
    [email.toLowerCase(), hash, role],
  );
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

/** Creates the user or resets its password and role (CITYFLOW_ADMIN_* at start, `users add` on an existing email). */
export async function upsertUser(db: Queryable, email: string, password: string, role: Role): Promise<User> {
  const hash = await hashPassword(password);
  const r = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role
     RETURNING id, email, role, created_at, password_hash`,
    [email.toLowerCase(), hash, role],
  );
  return toUser(r.rows[0]!);
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
