import type { AuthResponse, User } from '@cityflow/protocol';
import { type RoleName, roleAtLeast } from '@cityflow/protocol/roles';

const TOKEN_KEY = 'cityflow.token';
const USER_KEY = 'cityflow.user';

/** `exp` (ms) of a JWT, read without verifying (the hub verifies; the console only plans the expiry). */
export function tokenExpiryMs(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** The token lives in sessionStorage: it dies with the tab, and never goes to another origin. */
export function saveSession(auth: AuthResponse): void {
  sessionStorage.setItem(TOKEN_KEY, auth.token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(auth.user));
}

export function loadSession(): { token: string; user: User; exp: number } | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const raw = sessionStorage.getItem(USER_KEY);
  if (!token || !raw) return null;
  const exp = tokenExpiryMs(token);
  if (exp === null || exp <= Date.now()) return null;
  try {
    const user = JSON.parse(raw) as User;
    if (user.role !== 'viewer' && user.role !== 'operator' && user.role !== 'admin') return null;
    return { token, user, exp };
  } catch {
    return null;
  }
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

export function atLeast(user: User | undefined, role: RoleName): boolean {
  return roleAtLeast(user?.role, role);
}
