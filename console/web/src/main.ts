import type { AuthResponse } from '@cityflow/protocol';
import { Api, ApiRequestError } from './api.js';
import { City } from './city.js';
import { initLang, type Lang, LANGS, lang, onLangChange, setLang, t, translateStatic } from './i18n.js';
import type { BasemapConfig } from './map/map-style.js';
import { MapView } from './map/map-view.js';
import { clearSession, loadSession, saveSession, tokenExpiryMs } from './session.js';
import { Store } from './store.js';
import { mountAgents } from './views/agents-table.js';
import { byId } from './views/dom.js';
import { mountKpis } from './views/kpis.js';
import { mountBusiest, mountIncidents, mountReroutes } from './views/lists.js';
import { mountMapControls } from './views/map-controls.js';
import { mountRoadPanel } from './views/road-panel.js';
import { mountTopbar } from './views/topbar.js';

/** localStorage override of the tile URL ('' = no basemap), e.g. for a site with its own tile server. */
const TILE_OVERRIDE_KEY = 'cityflow.tileUrl';

async function basemapConfig(): Promise<BasemapConfig> {
  const override = localStorage.getItem(TILE_OVERRIDE_KEY);
  let file: Partial<BasemapConfig> = {};
  try {
    const res = await fetch('./console-config.json');
    if (res.ok) file = (await res.json()) as Partial<BasemapConfig>;
  } catch {
    file = {};
  }
  const tileUrl =
    override !== null ? override || null : typeof file.tileUrl === 'string' ? file.tileUrl : null;
  return { tileUrl, tileAttribution: file.tileAttribution, tileMaxZoom: file.tileMaxZoom };
}

const store = new Store();
let endReason: 'revoked' | 'expired' | null = null;
const api = new Api(
  () => store.state.session?.token ?? null,
  () => signOut('revoked'),
);
let running: { city: City; map: MapView; unmount: (() => void)[] } | null = null;
let basemap: BasemapConfig = { tileUrl: null };

function show(view: 'login' | 'app') {
  byId('login-view').hidden = view !== 'login';
  byId('app-view').hidden = view !== 'app';
  byId('logout').hidden = view !== 'app';
  byId('role').hidden = view !== 'app';
}

function renderRole() {
  const u = store.state.session?.user;
  byId('role').textContent = u ? `${u.email} · ${t('role', { r: u.role })}` : '';
  document.body.dataset.role = u?.role ?? '';
}

function signIn(session: NonNullable<typeof store.state.session>) {
  performance.mark('cityflow:sign-in');
  store.state.session = session;
  store.emit('session');
  renderRole();
  show('app');
  const map = new MapView(byId('map'), store, basemap, () => {
    byId('basemap-note').hidden = false;
  });
  byId('basemap-note').hidden = basemap.tileUrl !== null;
  const city = new City(store, api, (why) => signOut(why));
  const unmount = [
    mountTopbar(store),
    mountMapControls(store, () => city.loadHistory()),
    mountRoadPanel(store, api),
    mountBusiest(store),
    mountIncidents(store),
    mountReroutes(store),
    mountAgents(store, api),
    mountKpis(store),
  ];
  running = { city, map, unmount };
  // The roads request goes out first: building the map (a WebGL context, on CPU rendering hundreds of
  // ms) then overlaps the download instead of delaying it.
  void city.start().catch((e: unknown) => {
    if (!(e instanceof ApiRequestError && e.status === 401)) console.warn('cityflow: start failed', e);
  });
  map.start();
}

/** Releases every socket, timer, listener and the map; `why` says what the login form tells the user. */
function signOut(why: 'user' | 'revoked' | 'expired') {
  if (!running && !store.state.session) return;
  const token = store.state.session?.token;
  if (running) {
    running.city.stop();
    running.map.stop();
    for (const u of running.unmount) u();
    running = null;
  }
  clearSession();
  store.reset();
  renderRole();
  if (why === 'user' && token)
    void fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(
      () => {},
    );
  endReason = why === 'user' ? null : why;
  byId('login-error').textContent =
    endReason === 'expired' ? t('sessionExpired') : endReason ? t('sessionEnded') : '';
  show('login');
  byId<HTMLInputElement>('email').focus();
}

async function onLogin(e: Event) {
  e.preventDefault();
  const email = byId<HTMLInputElement>('email').value.trim();
  const password = byId<HTMLInputElement>('password').value;
  const error = byId('login-error');
  error.textContent = '';
  try {
    const auth = await api.post<AuthResponse>('/api/auth/login', { email, password });
    const exp = tokenExpiryMs(auth.token) ?? Date.now() + 3600_000;
    saveSession(auth);
    byId<HTMLInputElement>('password').value = '';
    signIn({ token: auth.token, user: auth.user, exp });
  } catch (err) {
    error.textContent =
      err instanceof ApiRequestError && (err.status === 401 || err.status === 400)
        ? t('wrongPassword')
        : t('loginFailed', { msg: err instanceof Error ? err.message : String(err) });
  }
}

async function boot() {
  initLang();
  translateStatic(document);
  document.title = t('title');
  const select = byId<HTMLSelectElement>('lang');
  select.value = lang();
  select.addEventListener('change', () => {
    if ((LANGS as readonly string[]).includes(select.value)) setLang(select.value as Lang);
  });
  onLangChange(() => {
    translateStatic(document);
    document.title = t('title');
    renderRole();
    // Every view re-renders from the store in the new language.
    for (const topic of [
      'clock',
      'conn',
      'mode',
      'history',
      'selection',
      'reroutes',
      'incidents',
      'agents',
      'kpis',
    ] as const)
      store.emit(topic);
    if (endReason)
      byId('login-error').textContent = endReason === 'expired' ? t('sessionExpired') : t('sessionEnded');
  });
  byId('login-form').addEventListener('submit', onLogin);
  byId('logout').addEventListener('click', () => signOut('user'));
  basemap = await basemapConfig();
  // Read-only probes for the browser tests and the render bench.
  (window as unknown as { __cityflow: unknown }).__cityflow = {
    store,
    probe: () => running?.map.probe() ?? null,
  };
  const saved = loadSession();
  if (saved) signIn(saved);
  else show('login');
}

void boot();
