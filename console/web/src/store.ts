import type {
  AgentInfo,
  Incident,
  Kpis,
  LiveTraffic,
  NetworkHistory,
  Prediction,
  Reroute,
  User,
} from '@cityflow/protocol';

/** What the map shows: the live state, a forecast horizon, or a past bucket of the history. */
export type MapMode = { kind: 'live' } | { kind: 'forecast'; horizon: 15 | 30 | 60 } | { kind: 'history' };
export const HORIZONS = [15, 30, 60] as const;

export interface RoadInfo {
  road_id: string;
  name: string;
  from_node: string;
  to_node: string;
  speed_limit_kmh: number;
  coordinates: [number, number][];
}
export interface SensorInfo {
  sensor_id: string;
  road_id: string;
  agent_id: string | null;
}
export interface NodeInfo {
  node_id: string;
  agent_id: string | null;
  lonlat: [number, number];
}

export interface State {
  session: { token: string; user: User; exp: number } | null;
  roads: Map<string, RoadInfo>;
  sensorsByRoad: Map<string, SensorInfo[]>;
  nodes: NodeInfo[];
  live: Map<string, LiveTraffic>;
  /** road id -> horizon -> newest forecast */
  predictions: Map<string, Map<number, Prediction>>;
  reroutes: Map<string, Reroute>;
  incidents: Map<string, Incident>;
  agents: Map<string, AgentInfo>;
  kpis: Kpis | null;
  history: NetworkHistory | null;
  mode: MapMode;
  /** index into history.ts while mode is history */
  historyIndex: number;
  selectedRoad: string | null;
  selectedReroute: string | null;
  conn: { state: 'connecting' | 'live' | 'retrying' | 'closed'; retryInS?: number };
  /** newest data timestamp seen (ms): the console's "now" (a replay shows its own time) */
  dataNowMs: number | null;
  /** browser time when the data clock last advanced: only used to measure silence (staleness) */
  lastArrivalMs: number | null;
}

export type Topic =
  | 'session'
  | 'network'
  | 'live'
  | 'predictions'
  | 'reroutes'
  | 'incidents'
  | 'agents'
  | 'kpis'
  | 'history'
  | 'mode'
  | 'selection'
  | 'conn'
  | 'clock';

/**
 * The one state store: views read `state`, call `set()` through the actions below, and subscribe to the
 * topics they render. Per-road changes carry the road ids so the map repaints only those.
 */
export class Store {
  readonly state: State = Store.empty();
  private readonly subs = new Map<Topic, Set<(changed?: readonly string[]) => void>>();

  static empty(): State {
    return {
      session: null,
      roads: new Map(),
      sensorsByRoad: new Map(),
      nodes: [],
      live: new Map(),
      predictions: new Map(),
      reroutes: new Map(),
      incidents: new Map(),
      agents: new Map(),
      kpis: null,
      history: null,
      mode: { kind: 'live' },
      historyIndex: 0,
      selectedRoad: null,
      selectedReroute: null,
      conn: { state: 'closed' },
      dataNowMs: null,
      lastArrivalMs: null,
    };
  }

  on(topic: Topic, f: (changed?: readonly string[]) => void): () => void {
    let set = this.subs.get(topic);
    if (!set) {
      set = new Set();
      this.subs.set(topic, set);
    }
    set.add(f);
    return () => set.delete(f);
  }

  emit(topic: Topic, changed?: readonly string[]): void {
    for (const f of this.subs.get(topic) ?? []) f(changed);
  }

  /** Back to the signed-out state (data of the previous session must not leak to the next user). */
  reset(): void {
    Object.assign(this.state, Store.empty());
    for (const topic of this.subs.keys()) this.emit(topic);
  }

  private advanceClock(tsIso: string): void {
    const ms = Date.parse(tsIso);
    if (!Number.isFinite(ms)) return;
    if (this.state.dataNowMs === null || ms > this.state.dataNowMs) this.state.dataNowMs = ms;
  }

  setLive(rows: LiveTraffic[], arrived: boolean): void {
    const ids: string[] = [];
    const before = this.state.dataNowMs;
    for (const r of rows) {
      const prev = this.state.live.get(r.road_id);
      if (prev && Date.parse(prev.ts) > Date.parse(r.ts)) continue;
      this.state.live.set(r.road_id, r);
      this.advanceClock(r.ts);
      ids.push(r.road_id);
    }
    // "Data stops" means the data's clock stops: snapshots repeating old readings do not count.
    if (arrived && this.state.dataNowMs !== before) this.state.lastArrivalMs = Date.now();
    // The clock view follows on the next 1 s tick: re-rendering it per batch would be wasted work.
    if (ids.length) this.emit('live', ids);
  }

  setPredictions(rows: Prediction[]): void {
    const ids: string[] = [];
    for (const p of rows) {
      let byH = this.state.predictions.get(p.road_id);
      if (!byH) {
        byH = new Map();
        this.state.predictions.set(p.road_id, byH);
      }
      const prev = byH.get(p.horizon_min);
      if (prev && Date.parse(prev.ts) > Date.parse(p.ts)) continue;
      byH.set(p.horizon_min, p);
      ids.push(p.road_id);
    }
    if (ids.length) this.emit('predictions', ids);
  }

  /** A full list replaces the current advice; a single frame updates its congested road's entry. */
  setReroutes(rows: Reroute[], replace: boolean): void {
    if (replace) this.state.reroutes.clear();
    for (const r of rows) this.state.reroutes.set(r.route_id, r);
    this.dropExpiredReroutes();
    this.emit('reroutes');
  }

  /**
   * Advice is shown until its `valid_until` by the data's clock: called on every clock tick, so an
   * expired reroute leaves the table and its path the map (with the selection) within a second.
   */
  expireReroutes(): void {
    if (this.dropExpiredReroutes()) this.emit('reroutes');
  }

  /**
   * Removes the advice no longer valid at the data's "now" (and a selection of it); true if any. Not
   * before the data clock is known: a replay's advice is valid in its own past, never by the browser's.
   */
  private dropExpiredReroutes(): boolean {
    const now = this.state.dataNowMs;
    if (now === null) return false;
    let dropped = false;
    for (const [id, r] of this.state.reroutes)
      if (!(Date.parse(r.valid_until) > now)) {
        this.state.reroutes.delete(id);
        dropped = true;
      }
    if (this.state.selectedReroute && !this.state.reroutes.has(this.state.selectedReroute))
      this.state.selectedReroute = null;
    return dropped;
  }

  setIncidents(rows: Incident[], replace: boolean): void {
    if (replace) this.state.incidents.clear();
    for (const i of rows) {
      if (i.cleared_at === null) this.state.incidents.set(i.incident_id, i);
      else this.state.incidents.delete(i.incident_id);
    }
    this.emit('incidents');
  }

  setAgents(rows: AgentInfo[], replace: boolean): void {
    if (replace) this.state.agents.clear();
    for (const a of rows) this.state.agents.set(a.agent_id, a);
    this.emit('agents');
  }

  setKpis(k: Kpis): void {
    this.state.kpis = k;
    this.emit('kpis');
  }

  setMode(mode: MapMode): void {
    this.state.mode = mode;
    this.emit('mode');
  }

  setHistory(h: NetworkHistory | null, index?: number): void {
    this.state.history = h;
    if (h) this.state.historyIndex = Math.max(0, Math.min(index ?? h.ts.length - 1, h.ts.length - 1));
    this.emit('history');
  }

  setHistoryIndex(i: number): void {
    this.state.historyIndex = i;
    this.emit('history');
  }

  select(roadId: string | null): void {
    this.state.selectedRoad = roadId;
    this.emit('selection');
  }

  selectReroute(routeId: string | null): void {
    this.state.selectedReroute = routeId;
    this.emit('reroutes');
  }

  setConn(conn: State['conn']): void {
    this.state.conn = conn;
    this.emit('conn');
  }
}
