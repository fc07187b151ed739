// HTTP API client: the token lives in sessionStorage (gone when the tab closes), never in the URL
// except for the WebSocket, where browsers cannot set headers.
const TOKEN_KEY = 'cityflow.token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
/** Called when the API answers 401 (expired or revoked token): the app goes back to the login form. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, json?.error?.code ?? 'HTTP', json?.error?.message ?? res.statusText);
    if (res.status === 401 && path !== '/api/auth/login') onUnauthorized();
    throw err;
  }
  return json;
}

export async function login(email, password) {
  const r = await api('/api/auth/login', { method: 'POST', body: { email, password } });
  session.set(r.token);
  return r.user;
}

export async function logout() {
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } finally {
    session.clear();
  }
}
