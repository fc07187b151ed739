import { CONGESTED_THRESHOLD, SLOW_THRESHOLD, congestionLevel } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { format } from '../web/src/i18n.js';
import { backoffDelayMs } from '../web/src/live/live-connection.js';
import {
  CONSOLE_STALE_MS,
  ROAD_STALE_MS,
  busiest,
  displayedLevel,
  staleForS,
} from '../web/src/road-state.js';
import { Store } from '../web/src/store.js';

const live = (road_id: string, ts: string, congestion_score: number | null) => ({
  ts,
  road_id,
  speed_kmh: 20,
  flow_rate: 300,
  occupancy: 0.2,
  congestion_score,
  sensors: 1,
});
const road = (road_id: string) => ({
  road_id,
  name: road_id,
  from_node: 'A',
  to_node: 'B',
  speed_limit_kmh: 50,
  coordinates: [] as [number, number][],
});

describe('console road state (pure rules the map renders from)', () => {
  it("uses protocol's levels: fluid < SLOW_THRESHOLD <= slow < CONGESTED_THRESHOLD <= congested", () => {
    expect(congestionLevel(CONGESTED_THRESHOLD)).toBe('jam');
    expect(congestionLevel(CONGESTED_THRESHOLD - 0.001)).toBe('slow');
    expect(congestionLevel(SLOW_THRESHOLD)).toBe('slow');
    expect(congestionLevel(SLOW_THRESHOLD - 0.001)).toBe('free');
    expect(congestionLevel(null)).toBe('none');
    expect(congestionLevel(Number.NaN)).toBe('none');
  });

  it('follows the data clock: "now" is the newest reading, and a road older than that by ROAD_STALE_MS is grey', () => {
    const s = new Store();
    for (const id of ['A', 'B', 'C']) s.state.roads.set(id, road(id));
    const newest = '2026-03-02T08:10:00Z';
    s.setLive(
      [
        live('A', newest, 0.7),
        live('B', new Date(Date.parse(newest) - ROAD_STALE_MS - 1000).toISOString(), 0.1),
        live('C', new Date(Date.parse(newest) - ROAD_STALE_MS).toISOString(), 0.1),
      ],
      false,
    );
    expect(s.state.dataNowMs).toBe(Date.parse(newest));
    expect(displayedLevel(s.state, 'A')).toBe('jam');
    expect(displayedLevel(s.state, 'B')).toBe('none');
    expect(displayedLevel(s.state, 'C')).toBe('free');
    // An older frame never overwrites a newer state (late QoS 0 delivery).
    s.setLive([live('A', '2026-03-02T08:09:00Z', 0.0)], true);
    expect(displayedLevel(s.state, 'A')).toBe('jam');
    expect(busiest(s.state, 2).map((r) => r.roadId)).toEqual(['A', 'C']);
    // Staleness follows the data clock: frames that only repeat old readings do not refresh it.
    s.setLive([live('A', newest, 0.7)], true);
    expect(s.state.lastArrivalMs).toBeNull();
    s.setLive([live('A', '2026-03-02T08:10:05Z', 0.7)], true);
    expect(s.state.lastArrivalMs).not.toBeNull();
  });

  it('shows the forecast of the chosen horizon and the chosen history bucket', () => {
    const s = new Store();
    s.state.roads.set('A', road('A'));
    const p = (h: number, score: number) => ({
      ts: '2026-03-02T08:10:00Z',
      target_ts: '2026-03-02T08:40:00Z',
      road_id: 'A',
      horizon_min: h,
      speed_kmh: 30,
      speed_lo_kmh: 25,
      speed_hi_kmh: 35,
      congestion_score: score,
      confidence: 0.5,
      model_version: 'cityflow-network',
    });
    s.setPredictions([p(15, 0.1), p(30, 0.4), p(60, 0.8)]);
    s.setMode({ kind: 'forecast', horizon: 15 });
    expect(displayedLevel(s.state, 'A')).toBe('free');
    s.setMode({ kind: 'forecast', horizon: 60 });
    expect(displayedLevel(s.state, 'A')).toBe('jam');
    s.setHistory({
      from: '2026-03-02T08:00:00Z',
      to: '2026-03-02T08:10:00Z',
      bucket: '5m',
      ts: ['2026-03-02T08:00:00Z', '2026-03-02T08:05:00Z'],
      roads: { A: { speed_kmh: [40, 10], congestion_score: [0.35, 0.9] } },
    });
    s.setMode({ kind: 'history' });
    expect(displayedLevel(s.state, 'A')).toBe('jam');
    s.setHistoryIndex(0);
    expect(displayedLevel(s.state, 'A')).toBe('slow');
  });

  it('calls the console stale after CONSOLE_STALE_MS without traffic, and says for how long', () => {
    expect(staleForS({ lastArrivalMs: null }, 1e6)).toBeNull();
    expect(staleForS({ lastArrivalMs: 1e6 }, 1e6 + CONSOLE_STALE_MS)).toBeNull();
    expect(staleForS({ lastArrivalMs: 1e6 }, 1e6 + CONSOLE_STALE_MS + 2000)).toBe(32);
  });

  it('retries the WebSocket with full-jitter exponential backoff capped at 30 s', () => {
    expect(backoffDelayMs(0, () => 0.999)).toBe(499);
    expect(backoffDelayMs(3, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(20, () => 0.999)).toBe(29_970);
    expect(backoffDelayMs(5, () => 0)).toBe(0);
  });

  it("drops advice at its valid_until by the data's clock, and the selection with it", () => {
    const s = new Store();
    const reroute = (route_id: string, valid_until: string) => ({
      ts: '2026-03-02T08:00:00Z',
      route_id,
      alt_route_id: 'B',
      reason: 'congestion',
      estimated_co2_gain: 10,
      eta_gain_min: 2,
      path: ['B'],
      decision_node: 'N1',
      diverted_share: 0.5,
      valid_until,
      co2_gain_g_per_vehicle: 50,
    });
    // Before any data the clock is unknown: a replay's advice (years old by the browser) is kept.
    s.setReroutes([reroute('A', '2026-03-02T08:10:00Z'), reroute('C', '2026-03-02T08:20:00Z')], true);
    s.expireReroutes();
    expect(s.state.reroutes.size).toBe(2);
    s.setLive([live('A', '2026-03-02T08:05:00Z', 0.7)], true);
    s.selectReroute('A');
    let emitted = 0;
    s.on('reroutes', () => emitted++);
    s.expireReroutes();
    expect(emitted).toBe(0); // nothing expired yet: no re-render
    s.setLive([live('A', '2026-03-02T08:10:00Z', 0.7)], true);
    s.expireReroutes();
    expect([...s.state.reroutes.keys()]).toEqual(['C']);
    expect(s.state.selectedReroute).toBeNull();
    expect(emitted).toBe(1);
    // advice already expired when it arrives is not listed
    s.setReroutes([reroute('D', '2026-03-02T08:09:00Z')], false);
    expect(s.state.reroutes.has('D')).toBe(false);
  });

  it("clears every list on reset (a sign-out must not show the next user the last one's city)", () => {
    const s = new Store();
    s.state.roads.set('A', road('A'));
    s.setLive([live('A', '2026-03-02T08:10:00Z', 0.7)], true);
    let emitted = 0;
    s.on('live', () => emitted++);
    s.reset();
    expect(s.state.roads.size).toBe(0);
    expect(s.state.live.size).toBe(0);
    expect(s.state.dataNowMs).toBeNull();
    expect(emitted).toBe(1);
  });
});

describe('messages', () => {
  it("fill in parameters and pick singular or plural by the language's rule", () => {
    const summary = (lang: 'en' | 'fr', n: number, f: number) =>
      format(lang, 'chartSummary', { n, f, v: '40 km/h', m: 'cityflow-edge' });
    expect(summary('en', 1, 3)).toBe(
      '1 bucket of history, latest 40 km/h; 3 forecast points, model cityflow-edge.',
    );
    expect(summary('en', 0, 1)).toBe(
      '0 buckets of history, latest 40 km/h; 1 forecast point, model cityflow-edge.',
    );
    // French counts 0 and 1 as singular
    expect(summary('fr', 0, 2)).toBe(
      '0 intervalle d’historique, dernier 40 km/h ; 2 points de prévision, modèle cityflow-edge.',
    );
    expect(format('fr', 'diagResult', { id: 'agent-e', n: 1 })).toBe(
      'Diagnostic de agent-e : 1 enregistrement.',
    );
  });
});
