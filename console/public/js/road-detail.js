import { api } from './api.js';
import { CONGESTED, fmt, level } from './levels.js';

const SVG = 'http://www.w3.org/2000/svg';
const PAST_MIN = 60;
const AHEAD_MIN = 30;
const W = 300;
const H = 110;
const PAD = { l: 28, r: 6, t: 6, b: 16 };

function el(name, attrs = {}) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Last hour of 1-minute buckets and the T+30 forecast of one road; a missing part is null. */
export async function fetchDetail(roadId) {
  const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
  const from = new Date(to.getTime() - PAST_MIN * 60_000);
  const q = (o) => new URLSearchParams(o).toString();
  const [history, forecast] = await Promise.all([
    api(
      `/api/traffic/history?${q({ road_id: roadId, bucket: '1m', from: from.toISOString(), to: to.toISOString(), limit: 200 })}`,
    )
      .then((p) => p?.data ?? [])
      .catch(() => null),
    api(`/api/predictions?${q({ road_id: roadId, horizon: 30, limit: 1 })}`)
      .then((p) => p?.data?.[0] ?? null)
      .catch(() => null),
  ]);
  return { roadId, history, forecast, at: Date.now() };
}

/**
 * Speed over the last hour and the forecast 30 min ahead, against the congestion line (half the
 * speed limit: where the protocol's score reaches 0.5 on speed alone).
 */
export function renderDetail(container, detail, speedLimit) {
  container.replaceChildren();
  if (!detail) return;
  const now = detail.at;
  const points = (detail.history ?? [])
    .filter((b) => typeof b.speed_kmh === 'number')
    .map((b) => ({ t: Date.parse(b.ts), v: b.speed_kmh, samples: b.samples }))
    .sort((a, b) => a.t - b.t);
  const f = detail.forecast;
  const vmax = Math.max(speedLimit || 50, ...points.map((p) => p.v), f?.speed_hi_kmh ?? 0) * 1.05;
  const x = (t) =>
    PAD.l + ((t - (now - PAST_MIN * 60_000)) / ((PAST_MIN + AHEAD_MIN) * 60_000)) * (W - PAD.l - PAD.r);
  const y = (v) => PAD.t + (1 - v / vmax) * (H - PAD.t - PAD.b);

  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  const jam = (speedLimit || 0) * (0.9 - 0.8 * CONGESTED);
  if (jam > 0) {
    svg.append(el('line', { x1: PAD.l, x2: W - PAD.r, y1: y(jam), y2: y(jam), class: 'jam-line' }));
  }
  svg.append(el('line', { x1: x(now), x2: x(now), y1: PAD.t, y2: H - PAD.b, class: 'now-line' }));
  for (const [v, label] of [
    [0, '0'],
    [vmax / 1.05, fmt.num(vmax / 1.05, 0)],
  ]) {
    const t = el('text', { x: PAD.l - 4, y: y(v) + 3, class: 'axis', 'text-anchor': 'end' });
    t.textContent = label;
    svg.append(t);
  }
  for (const [t, label, anchor] of [
    [now - PAST_MIN * 60_000, '−60 min', 'start'],
    [now, 'now', 'middle'],
    [now + AHEAD_MIN * 60_000, '+30 min', 'end'],
  ]) {
    const e = el('text', { x: x(t), y: H - 3, class: 'axis', 'text-anchor': anchor });
    e.textContent = label;
    svg.append(e);
  }
  if (points.length > 1)
    svg.append(
      el('polyline', {
        points: points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '),
        class: 'speed-line',
      }),
    );
  for (const p of points)
    svg.append(el('circle', { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2, class: 'speed-dot' }));
  if (f && typeof f.speed_kmh === 'number') {
    const tx = x(Date.parse(f.target_ts) || now + AHEAD_MIN * 60_000);
    if (typeof f.speed_lo_kmh === 'number' && typeof f.speed_hi_kmh === 'number')
      svg.append(
        el('line', { x1: tx, x2: tx, y1: y(f.speed_lo_kmh), y2: y(f.speed_hi_kmh), class: 'forecast-band' }),
      );
    svg.append(
      el('circle', { cx: tx, cy: y(f.speed_kmh), r: 4, class: `forecast-dot ${level(f.congestion_score)}` }),
    );
  }
  const last = points.at(-1);
  const summary = [
    points.length
      ? `${points.length} minute(s) with speed in the last hour, latest ${fmt.num(last.v, 1, ' km/h')}`
      : 'no closed minute in the last hour yet',
    f
      ? `forecast in 30 min: ${fmt.num(f.speed_kmh, 1, ' km/h')}, score ${fmt.num(f.congestion_score, 2)} (${f.model_version})`
      : 'no forecast yet',
  ];
  svg.setAttribute('aria-label', `Speed chart: ${summary.join('; ')}`);
  const caption = document.createElement('p');
  caption.className = 'muted small';
  caption.id = 'road-detail-summary';
  caption.textContent = `${summary[0]}; ${summary[1]}.`;
  container.append(svg, caption);
}
