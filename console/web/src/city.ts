import type {
  AgentInfo,
  Incident,
  LiveMessage,
  LiveTraffic,
  NetworkHistory,
  Prediction,
  Reroute,
} from '@cityflow/protocol';
import { type Api, ApiRequestError } from './api.js';
import { LiveSocket } from './live-socket.js';
import { HORIZONS, type NodeInfo, type RoadInfo, type SensorInfo, type Store } from './store.js';

export const KPI_REFRESH_MS = 10_000;
export const CLOCK_TICK_MS = 1_000;
/** How far back the time view and the road chart reach. */
export const HISTORY_HOURS = 3;

type Feature = { geometry?: { type?: string; coordinates?: unknown }; properties?: Record<string, unknown> };

/** `/api/roads` (GeoJSON) read defensively into the store's network tables. */
export function parseRoads(geo: unknown): {
  roads: Map<string, RoadInfo>;
  sensorsByRoad: Map<string, SensorInfo[]>;
  nodes: NodeInfo[];
  live: LiveTraffic[];
} {
  const roads = new Map<string, RoadInfo>();
  const sensorsByRoad = new Map<string, SensorInfo[]>();
  const nodes: NodeInfo[] = [];
  const live: LiveTraffic[] = [];
  const features = (geo as { features?: unknown })?.features;
  for (const f of Array.isArray(features) ? (features as Feature[]) : []) {
    const p = f.properties ?? {};
    const c = f.geometry?.coordinates;
    const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : null);
    if (p.kind === 'road' && Array.isArray(c) && str('road_id')) {
      const id = str('road_id')!;
      roads.set(id, {
        road_id: id,
        name: str('name') ?? id,
        from_node: str('from_node') ?? '',
        to_node: str('to_node') ?? '',
        speed_limit_kmh: typeof p.speed_limit_kmh === 'number' ? p.speed_limit_kmh : 50,
        coordinates: c as [number, number][],
      });
      const l = p.live as LiveTraffic | null | undefined;
      if (l && typeof l.ts === 'string') live.push(l);
    } else if (p.kind === 'sensor' && str('sensor_id') && str('road_id')) {
      const s = { sensor_id: str('sensor_id')!, road_id: str('road_id')!, agent_id: str('agent_id') };
      const list = sensorsByRoad.get(s.road_id) ?? [];
      list.push(s);
      sensorsByRoad.set(s.road_id, list);
    } else if (p.kind === 'intersection' && str('node_id') && Array.isArray(c)) {
      nodes.push({ node_id: str('node_id')!, agent_id: str('agent_id'), lonlat: c as [number, number] });
    }
  }
  return { roads, sensorsByRoad, nodes, live };
}

/**
 * One signed-in session's data: the initial loads, the live socket, the KPI and clock timers.
 * `stop()` releases every one of them (sign-out, expiry, revocation).
 */
export class City {
  private socket: LiveSocket | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private expiry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly api: Api,
    private readonly end: (why: 'revoked' | 'expired') => void,
  ) {}

  async start(): Promise<void> {
    const s = this.store;
    const session = s.state.session!;
    this.expiry = setTimeout(() => this.end('expired'), Math.max(0, session.exp - Date.now()));
    this.socket = new LiveSocket(
      () => {
        const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
        return `${proto}//${location.host}${location.pathname.replace(/[^/]*$/, '')}ws/live?token=${encodeURIComponent(session.token)}`;
      },
      {
        messages: (batch) => this.onMessages(batch),
        state: (state, retryInS) => s.setConn({ state, retryInS }),
        revoked: () => this.end('revoked'),
      },
    );
    this.timers.push(
      setInterval(() => void this.loadKpis(), KPI_REFRESH_MS),
      setInterval(() => {
        s.expireReroutes();
        s.emit('clock');
      }, CLOCK_TICK_MS),
    );
    // The live socket opens once the network is in: 5,000 traffic frames a second would otherwise
    // compete with the network's download and the map's start for the same thread. Nothing is lost:
    // the roads carry their live state, and the lists below are read after the socket is open.
    let geo: unknown;
    try {
      geo = await this.api.get<unknown>('/api/roads');
      performance.mark('cityflow:roads-fetched');
    } catch (e) {
      // Still no roads, said all the same: the map waits for the network to set its style.
      if (!this.stopped) s.emit('network');
      throw e;
    } finally {
      if (!this.stopped) this.socket.start();
    }
    if (this.stopped) return;
    const net = parseRoads(geo);
    performance.mark('cityflow:roads-loaded');
    s.state.roads = net.roads;
    s.state.sensorsByRoad = net.sensorsByRoad;
    s.state.nodes = net.nodes;
    s.emit('network');
    s.setLive(net.live, false);
    await Promise.all([
      this.loadAgents(),
      this.loadReroutes(),
      this.loadIncidents(),
      this.loadKpis(),
      ...HORIZONS.map((h) => this.loadPredictions(h)),
    ]);
  }

  private guard = (e: unknown) => {
    if (!this.stopped && !(e instanceof ApiRequestError && e.status === 401))
      console.warn('cityflow: load failed', e instanceof Error ? e.message : e);
  };

  private async loadAgents() {
    const rows = await this.api.all<AgentInfo>('/api/agents').catch(this.guard);
    if (rows && !this.stopped) this.store.setAgents(rows, true);
  }

  private async loadReroutes() {
    const rows = await this.api.all<Reroute>('/api/reroutes/recommended').catch(this.guard);
    if (rows && !this.stopped) this.store.setReroutes(rows, true);
  }

  /** Until the hub serves /api/incidents (rerouting issue), a 404 means "no incidents". */
  private async loadIncidents() {
    const rows = await this.api.all<Incident>('/api/incidents', { active: true }).catch((e: unknown) => {
      if (e instanceof ApiRequestError && e.status === 404) return [] as Incident[];
      this.guard(e);
      return undefined;
    });
    if (rows && !this.stopped) this.store.setIncidents(rows, true);
  }

  private async loadPredictions(horizon: number) {
    const rows = await this.api.all<Prediction>('/api/predictions', { horizon }).catch(this.guard);
    if (rows && !this.stopped) this.store.setPredictions(rows);
  }

  private async loadKpis() {
    const k = await this.api.get<import('@cityflow/protocol').Kpis>('/api/kpis').catch(this.guard);
    if (k && !this.stopped) this.store.setKpis(k);
  }

  /** The network's history over the last HISTORY_HOURS before the data's "now", for the time view. */
  async loadHistory(): Promise<void> {
    const now = this.store.state.dataNowMs ?? Date.now();
    const to = Math.ceil(now / 300_000) * 300_000;
    const h = await this.api
      .get<NetworkHistory>('/api/traffic/history/network', {
        from: new Date(to - HISTORY_HOURS * 3600_000).toISOString(),
        to: new Date(to).toISOString(),
        bucket: '5m',
      })
      .catch(this.guard);
    if (h && !this.stopped) this.store.setHistory(h);
  }

  /** One batch of frames (live/live-connection.ts): traffic and predictions in one store update each. */
  private onMessages(batch: readonly LiveMessage[]): void {
    const s = this.store;
    const traffic: LiveTraffic[] = [];
    const predictions: Prediction[] = [];
    for (const m of batch)
      switch (m.type) {
        case 'traffic':
          traffic.push(m.data);
          break;
        case 'prediction':
          predictions.push(m.data);
          break;
        case 'reroute':
          s.setReroutes([m.data], false);
          break;
        case 'incident':
          s.setIncidents([m.data], false);
          break;
        case 'agent':
          s.setAgents([m.data], false);
          break;
      }
    if (traffic.length) s.setLive(traffic, true);
    if (predictions.length) s.setPredictions(predictions);
  }

  stop(): void {
    this.stopped = true;
    this.socket?.stop();
    this.socket = null;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
  }
}
