import { type CongestionLevel, congestionLevel } from '@cityflow/protocol/congestion';
import type { State } from './store.js';

/**
 * A live state older than this, measured against the newest data on the map (not the browser clock,
 * so data-clock replays stay readable), is shown grey: an agent gone quiet must not leave roads green.
 */
export const ROAD_STALE_MS = 5 * 60_000;
/** The whole console is "stale" when no traffic frame arrived for this long (browser time). */
export const CONSOLE_STALE_MS = 30_000;

/** The score the map shows for a road in the current mode (null = no data). */
export function displayedScore(s: State, roadId: string): number | null {
  const mode = s.mode;
  if (mode.kind === 'forecast') return s.predictions.get(roadId)?.get(mode.horizon)?.congestion_score ?? null;
  if (mode.kind === 'history') return s.history?.roads[roadId]?.congestion_score[s.historyIndex] ?? null;
  const l = s.live.get(roadId);
  if (!l || s.dataNowMs === null) return null;
  if (s.dataNowMs - Date.parse(l.ts) > ROAD_STALE_MS) return null;
  return l.congestion_score;
}

export function displayedLevel(s: State, roadId: string): CongestionLevel {
  return congestionLevel(displayedScore(s, roadId));
}

/** Seconds since the last traffic frame when that exceeds CONSOLE_STALE_MS, else null. */
export function staleForS(s: Pick<State, 'lastArrivalMs'>, wallNowMs: number): number | null {
  if (s.lastArrivalMs === null) return null;
  const quiet = wallNowMs - s.lastArrivalMs;
  return quiet > CONSOLE_STALE_MS ? Math.round(quiet / 1000) : null;
}

/** Roads by current score, worst first (no-data roads left out). */
export function busiest(s: State, n: number): { roadId: string; score: number }[] {
  const out: { roadId: string; score: number }[] = [];
  for (const id of s.roads.keys()) {
    const score = displayedScore(s, id);
    if (score !== null) out.push({ roadId: id, score });
  }
  return out.sort((a, b) => b.score - a.score || a.roadId.localeCompare(b.roadId)).slice(0, n);
}

/** "Name (id)", or the id alone when the road has no name of its own. */
export function roadLabel(s: Pick<State, 'roads'>, id: string): string {
  const r = s.roads.get(id);
  return r && r.name !== id ? `${r.name} (${id})` : id;
}
