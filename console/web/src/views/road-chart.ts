import { CONGESTED_THRESHOLD, speedForScore } from '@cityflow/protocol/congestion';
import type { HistoryBucket, Prediction } from '@cityflow/protocol';
import { axisBottom, axisLeft } from 'd3-axis';
import { scaleLinear, scaleUtc } from 'd3-scale';
import { select } from 'd3-selection';
import { area, line } from 'd3-shape';
import { num, t } from '../i18n.js';

export interface ChartInput {
  history: HistoryBucket[];
  forecasts: Prediction[];
  nowMs: number;
  fromMs: number;
  speedLimitKmh: number;
}

const W = 560;
const H = 220;
const M = { top: 12, right: 14, bottom: 28, left: 40 };

/**
 * Speed over the last hours (measured) and the forecast with its interval ahead of "now" (the data's
 * clock), against the speed where the road counts as congested (protocol's speedForScore).
 */
export function renderRoadChart(el: HTMLElement, d: ChartInput): void {
  el.replaceChildren();
  const forecasts = [...d.forecasts].sort((a, b) => a.horizon_min - b.horizon_min);
  const toMs = Math.max(d.nowMs + 60 * 60_000, ...forecasts.map((p) => Date.parse(p.target_ts)));
  const points = d.history
    .filter((b) => b.speed_kmh !== null)
    .map((b) => ({ t: Date.parse(b.ts), v: b.speed_kmh as number }))
    .sort((a, b) => a.t - b.t);
  const maxV = Math.max(
    d.speedLimitKmh * 1.1,
    ...points.map((p) => p.v),
    ...forecasts.map((p) => p.speed_hi_kmh ?? p.speed_kmh ?? 0),
  );
  const x = scaleUtc()
    .domain([d.fromMs, toMs])
    .range([M.left, W - M.right]);
  const y = scaleLinear()
    .domain([0, maxV])
    .nice()
    .range([H - M.bottom, M.top]);
  const svg = select(el)
    .append('svg')
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'img')
    .attr('class', 'chart')
    .attr('aria-label', t('chartTitle', { h: Math.round((d.nowMs - d.fromMs) / 3600_000) }));
  svg
    .append('g')
    .attr('class', 'axis')
    .attr('transform', `translate(0,${H - M.bottom})`)
    .call(
      axisBottom(x)
        .ticks(6)
        // 24-hour UTC times, like the rest of the console (d3's default is a 12-hour US format).
        .tickFormat((v) => (v as Date).toISOString().slice(11, 16)),
    );
  svg
    .append('g')
    .attr('class', 'axis')
    .attr('transform', `translate(${M.left},0)`)
    .call(axisLeft(y).ticks(5));

  const jam = speedForScore(CONGESTED_THRESHOLD, d.speedLimitKmh);
  svg
    .append('line')
    .attr('class', 'jam-line')
    .attr('x1', M.left)
    .attr('x2', W - M.right)
    .attr('y1', y(jam))
    .attr('y2', y(jam));
  svg
    .append('text')
    .attr('class', 'jam-label')
    .attr('x', M.left + 4)
    .attr('y', y(jam) - 4)
    .text(`${t('congestedLine')} ${num(jam, 0)} km/h`);
  svg
    .append('line')
    .attr('class', 'now-line')
    .attr('x1', x(d.nowMs))
    .attr('x2', x(d.nowMs))
    .attr('y1', M.top)
    .attr('y2', H - M.bottom);
  svg
    .append('text')
    .attr('class', 'now-label')
    .attr('x', x(d.nowMs) + 3)
    .attr('y', M.top + 10)
    .text(t('now'));

  if (points.length)
    svg
      .append('path')
      .datum(points)
      .attr('class', 'actual')
      .attr(
        'd',
        line<{ t: number; v: number }>()
          .x((p) => x(p.t))
          .y((p) => y(p.v)),
      );
  svg
    .selectAll('circle.actual-dot')
    .data(points.slice(-1))
    .join('circle')
    .attr('class', 'actual-dot')
    .attr('r', 3)
    .attr('cx', (p) => x(p.t))
    .attr('cy', (p) => y(p.v));

  const fc = forecasts
    .filter((p) => p.speed_kmh !== null)
    .map((p) => ({
      t: Date.parse(p.target_ts),
      v: p.speed_kmh as number,
      lo: p.speed_lo_kmh ?? (p.speed_kmh as number),
      hi: p.speed_hi_kmh ?? (p.speed_kmh as number),
    }));
  if (fc.length) {
    const last = points.at(-1);
    const start = last ? [{ t: last.t, v: last.v, lo: last.v, hi: last.v }] : [];
    const series = [...start, ...fc];
    svg
      .append('path')
      .datum(series)
      .attr('class', 'band')
      .attr(
        'd',
        area<{ t: number; lo: number; hi: number }>()
          .x((p) => x(p.t))
          .y0((p) => y(p.lo))
          .y1((p) => y(p.hi)),
      );
    svg
      .append('path')
      .datum(series)
      .attr('class', 'forecast')
      .attr(
        'd',
        line<{ t: number; v: number }>()
          .x((p) => x(p.t))
          .y((p) => y(p.v)),
      );
    svg
      .selectAll('circle.forecast-dot')
      .data(fc)
      .join('circle')
      .attr('class', 'forecast-dot')
      .attr('r', 3.5)
      .attr('cx', (p) => x(p.t))
      .attr('cy', (p) => y(p.v));
  }
  const legend = document.createElement('p');
  legend.className = 'chart-legend small';
  for (const [cls, key] of [
    ['actual', 'actual'],
    ['forecast', 'forecast'],
    ['band', 'interval'],
  ] as const) {
    const sw = document.createElement('span');
    sw.className = `key ${cls}`;
    legend.append(sw, ` ${t(key)}  `);
  }
  el.append(legend);
}
