import { ApiError, api, login, logout, session, setUnauthorizedHandler } from './api.js';
import { LEVEL_LABEL, fmt, freshScore, level, newestTs } from './levels.js';
import { connectLive } from './live.js';
import { createMap, roadLabel } from './map.js';
import { fetchDetail, renderDetail } from './road-detail.js';

const $ = (id) => document.getElementById(id);
const REROUTE_REFRESH_MS = 30_000;
const ROADS_RESYNC_MS = 60_000;

/** road_id -> { props, live }; live is the latest `/api/traffic/live` shape or null. */
const roads = new Map();
let map = null;
let live = null;
let selected = null;
let reroutes = [];
/** agent_id -> `/api/agents` item; an agent offline means its roads go stale while it buffers. */
const agents = new Map();
/** The selected road's chart: kept as one node, re-attached when the panel redraws on live updates. */
const detailEl = document.createElement('div');
detailEl.id = 'road-detail';
let detail = null;
const timers = [];
let renderQueued = false;

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function nameOf(roadId) {
  const r = roads.get(roadId);
  return r ? roadLabel(r.props) : roadId;
}

function setView(view) {
  document.body.dataset.view = view;
  $('login-view').hidden = view !== 'login';
  $('app-view').hidden = view !== 'app';
  $('logout').hidden = view !== 'app';
  $('conn').hidden = view !== 'app';
}

function stopApp() {
  live?.close();
  live = null;
  for (const t of timers.splice(0)) clearInterval(t);
}

function showLogin(message = '') {
  stopApp();
  setView('login');
  $('login-error').textContent = message;
  $('email').focus();
}

function setConn(state) {
  const c = $('conn');
  c.className = `conn ${state === 'open' ? 'ok' : 'down'}`;
  c.textContent = state === 'open' ? 'Live' : 'Reconnecting…';
}

function renderRoad() {
  const panel = $('road-panel');
  const r = selected && roads.get(selected);
  if (!r) return;
  const l = r.live;
  const lv = level(r.score);
  const stale = l && r.score === null && typeof l.congestion_score === 'number';
  const forRoad = reroutes.filter((x) => x.route_id === selected);
  panel.replaceChildren(
    h(
      'p',
      {},
      h('strong', {}, roadLabel(r.props)),
      ' ',
      h('span', { class: `badge ${lv}` }, stale ? 'stale' : LEVEL_LABEL[lv]),
    ),
    h(
      'dl',
      { class: 'values' },
      h('dt', {}, 'Congestion score'),
      h('dd', { id: 'v-score' }, fmt.num(l?.congestion_score, 2)),
      h('dt', {}, 'Speed'),
      h('dd', { id: 'v-speed' }, fmt.num(l?.speed_kmh, 1, ' km/h')),
      h('dt', {}, 'Flow'),
      h('dd', {}, fmt.num(l?.flow_rate, 0, ' veh/h')),
      h('dt', {}, 'Occupancy'),
      h('dd', {}, l && typeof l.occupancy === 'number' ? `${(l.occupancy * 100).toFixed(0)} %` : '—'),
      h('dt', {}, 'Speed limit'),
      h('dd', {}, fmt.num(r.props.speed_limit_kmh, 0, ' km/h')),
      h('dt', {}, 'Sensors'),
      h('dd', {}, l ? String(l.sensors) : '—'),
      h('dt', {}, 'Updated'),
      h('dd', {}, fmt.time(l?.ts)),
    ),
    forRoad.length ? h('p', {}, `${forRoad.length} reroute(s) recommended around this road.`) : '',
    detailEl,
  );
}

async function refreshDetail() {
  if (!selected) return;
  const roadId = selected;
  const d = await fetchDetail(roadId);
  // The operator may have picked another road while this one loaded.
  if (roadId !== selected) return;
  detail = d;
  renderDetail(detailEl, detail, roads.get(roadId)?.props.speed_limit_kmh);
}

function renderBusiest() {
  const list = [...roads.entries()]
    .filter(([, r]) => typeof r.score === 'number')
    .sort((a, b) => b[1].score - a[1].score)
    .slice(0, 8);
  $('busiest').replaceChildren(
    ...(list.length
      ? list.map(([id, r]) => {
          const b = h('button', { type: 'button', 'aria-label': roadLabel(r.props) }, r.props.name ?? id);
          b.addEventListener('click', () => select(id));
          const lv = level(r.score);
          return h(
            'li',
            {},
            h(
              'div',
              {},
              h('span', {}, b, r.props.name ? h('span', { class: 'id muted' }, id) : ''),
              h('span', { class: `badge ${lv}` }, r.score.toFixed(2)),
            ),
          );
        })
      : [h('li', { class: 'muted' }, 'Waiting for live data…')]),
  );
  const withData = [...roads.values()].filter((r) => typeof r.score === 'number').length;
  const stale = [...roads.values()].filter(
    (r) => r.live && r.score === null && typeof r.live.congestion_score === 'number',
  ).length;
  $('summary').textContent =
    `${roads.size} roads, ${withData} with live data${stale ? `, ${stale} stale` : ''}.`;
}

function renderReroutes() {
  const ul = $('reroutes');
  if (!reroutes.length) return ul.replaceChildren(h('li', { class: 'muted' }, 'None right now.'));
  ul.replaceChildren(
    ...reroutes.map((r) =>
      h(
        'li',
        {},
        h('strong', {}, nameOf(r.route_id)),
        ' is congested: ',
        r.path?.length
          ? `from ${r.decision_node} take ${r.path.map(nameOf).join(' → ')}`
          : `take ${r.alt_route_id}`,
        h(
          'div',
          { class: 'muted small' },
          `saves ${fmt.num(r.eta_gain_min, 1)} min per vehicle · ${fmt.num(r.estimated_co2_gain, 1)} kg CO₂/h · divert ${fmt.num((r.diverted_share ?? 0) * 100, 0)} % · until ${fmt.time(r.valid_until)}`,
        ),
      ),
    ),
  );
}

/** Colours every road from its fresh score; returns the newest state time used as reference. */
function recolour() {
  const newest = newestTs([...roads.values()].map((r) => r.live));
  for (const [id, r] of roads) {
    r.score = freshScore(r.live, newest);
    map?.setScore(id, r.score);
  }
}

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  // Live messages arrive in bursts (one per road); redraw the lists once per frame, not per message.
  requestAnimationFrame(() => {
    renderQueued = false;
    recolour();
    renderBusiest();
    renderRoad();
  });
}

function select(roadId) {
  selected = roadId;
  map?.select(roadId);
  detail = null;
  detailEl.replaceChildren();
  renderRoad();
  void refreshDetail();
}

function renderAgents() {
  const all = [...agents.values()];
  const offline = all.filter((a) => !a.online);
  $('agents-summary').textContent = all.length
    ? `${all.length - offline.length} of ${all.length} online.`
    : 'No agent has reported yet.';
  $('agents-offline').replaceChildren(
    ...offline.map((a) => h('li', {}, `${a.agent_id} offline since ${fmt.time(a.last_seen)}`)),
  );
}

async function refreshAgents() {
  try {
    const page = await api('/api/agents?limit=200');
    agents.clear();
    for (const a of page?.data ?? []) agents.set(a.agent_id, a);
    renderAgents();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) console.warn('agents', e);
  }
}

async function refreshReroutes() {
  try {
    const page = await api('/api/reroutes/recommended?limit=20');
    reroutes = page?.data ?? [];
    renderReroutes();
    renderRoad();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) console.warn('reroutes', e);
  }
}

async function loadRoads() {
  const geo = await api('/api/roads');
  const first = map === null;
  if (first) map = createMap($('map'), geo, select);
  for (const f of geo.features ?? []) {
    const p = f.properties ?? {};
    if (p.kind !== 'road') continue;
    const { live: l, congestion_score, ...props } = p;
    const prev = roads.get(p.road_id)?.live;
    // A resync never replaces a newer WebSocket update with an older snapshot.
    const next = prev && l && prev.ts > l.ts ? prev : (l ?? prev ?? null);
    roads.set(p.road_id, { props, live: next });
  }
  scheduleRender();
}

function onLive(msg) {
  if (msg.type === 'traffic' && msg.data?.road_id && roads.has(msg.data.road_id)) {
    const r = roads.get(msg.data.road_id);
    if (r.live && r.live.ts > msg.data.ts) return;
    r.live = msg.data;
    scheduleRender();
  } else if (msg.type === 'agent' && msg.data?.agent_id) {
    agents.set(msg.data.agent_id, { ...agents.get(msg.data.agent_id), ...msg.data });
    renderAgents();
  } else if (msg.type === 'reroute') {
    clearTimeout(onLive.rerouteTimer);
    onLive.rerouteTimer = setTimeout(refreshReroutes, 1500);
  }
}

async function showApp() {
  setView('app');
  setConn('closed');
  map = null;
  roads.clear();
  await loadRoads();
  await Promise.all([refreshReroutes(), refreshAgents()]);
  live = connectLive(session.token, { onMessage: onLive, onState: setConn, onRevoked: () => sessionEnded() });
  timers.push(
    setInterval(refreshReroutes, REROUTE_REFRESH_MS),
    setInterval(refreshAgents, REROUTE_REFRESH_MS),
    setInterval(() => void refreshDetail(), REROUTE_REFRESH_MS),
    // Ages states out even when no message arrives (an agent gone quiet).
    setInterval(scheduleRender, REROUTE_REFRESH_MS),
    setInterval(() => loadRoads().catch(() => {}), ROADS_RESYNC_MS),
  );
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const email = $('email').value.trim();
  const password = $('password').value;
  if (!email || password.length < 8) {
    $('login-error').textContent = 'Enter your email and a password of at least 8 characters.';
    return;
  }
  $('login-error').textContent = '';
  try {
    await login(email, password);
    $('password').value = '';
    await showApp();
  } catch (err) {
    $('login-error').textContent =
      err instanceof ApiError && err.status === 401
        ? 'Wrong email or password.'
        : err instanceof ApiError && err.status === 429
          ? 'Too many attempts, wait a minute.'
          : `Sign-in failed: ${err.message}`;
  }
});

$('logout').addEventListener('click', async () => {
  await logout().catch(() => {});
  showLogin('Signed out.');
});

function sessionEnded() {
  session.clear();
  showLogin('Your session has ended, sign in again.');
}
setUnauthorizedHandler(sessionEnded);

if (session.token) showApp().catch(() => showLogin());
else showLogin();
