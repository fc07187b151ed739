import { congestionLevel } from '@cityflow/protocol/congestion';
import type { HistoryBucket, Prediction } from '@cityflow/protocol';
import type { Api } from '../api.js';
import { HISTORY_HOURS } from '../city.js';
import { type MessageKey, num, t, timeOf } from '../i18n.js';
import { HORIZONS, type Store } from '../store.js';
import { byId, frameScheduler, h } from './dom.js';
import { renderRoadChart } from './road-chart.js';

const HISTORY_REFRESH_MS = 60_000;

/**
 * The selected road: live values, its active incident if any, sensors and agent, the chart of history +
 * forecast, the model.
 */
export function mountRoadPanel(store: Store, api: Api): () => void {
  const panel = byId('road-panel');
  const chart = byId('road-chart');
  let history: HistoryBucket[] = [];
  let historyRoad: string | null = null;
  let loading = 0;

  const loadHistory = async () => {
    const id = store.state.selectedRoad;
    if (!id) return;
    const now = store.state.dataNowMs ?? Date.now();
    const my = ++loading;
    const rows = await api
      .all<HistoryBucket>('/api/traffic/history', {
        road_id: id,
        bucket: '5m',
        from: new Date(now - HISTORY_HOURS * 3600_000).toISOString(),
        to: new Date(now + 60_000).toISOString(),
      })
      .catch(() => null);
    if (my !== loading || rows === null) return;
    history = rows;
    historyRoad = id;
    view.schedule();
  };

  const render = () => {
    const s = store.state;
    const id = s.selectedRoad;
    const road = id ? s.roads.get(id) : undefined;
    if (!id || !road) {
      panel.replaceChildren(h('p', { class: 'muted' }, t('selectRoadHint')));
      chart.replaceChildren();
      return;
    }
    const l = s.live.get(id);
    const level = congestionLevel(l?.congestion_score);
    const sensors = s.sensorsByRoad.get(id) ?? [];
    const agents = [...new Set(sensors.map((x) => x.agent_id).filter((a): a is string => !!a))];
    const preds = HORIZONS.map((hz) => s.predictions.get(id)?.get(hz)).filter((p): p is Prediction => !!p);
    const models = [...new Set(preds.map((p) => p.model_version))];
    const incident = [...s.incidents.values()].find((i) => i.road_id === id);
    const row = (label: string, value: string, vid?: string) =>
      h('div', {}, h('dt', {}, label), h('dd', vid ? { id: vid } : {}, value));
    panel.replaceChildren(
      h('h3', { id: 'road-name' }, `${road.name} (${id})`),
      h(
        'p',
        { class: `level-badge ${level}`, id: 'road-level' },
        `${t(`level${level}` as MessageKey)} · ${t('score')} ${num(l?.congestion_score, 2)}`,
      ),
      incident
        ? h(
            'p',
            { id: 'road-incident', class: 'incident-note', 'data-incident-id': incident.incident_id },
            t('incidentHere', {
              t: timeOf(incident.detected_at),
              c: num(incident.confidence * 100, 0),
              reason: incident.reason,
            }),
          )
        : '',
      h(
        'dl',
        { class: 'values' },
        row(t('speed'), l?.speed_kmh == null ? '–' : `${num(l.speed_kmh)} km/h`, 'v-speed'),
        row(t('flow'), l?.flow_rate == null ? '–' : `${num(l.flow_rate, 0)} veh/h`, 'v-flow'),
        row(t('occupancy'), l?.occupancy == null ? '–' : `${num(l.occupancy * 100, 0)} %`, 'v-occupancy'),
        row(t('sensors'), sensors.map((x) => x.sensor_id).join(', ') || '–', 'v-sensors'),
        row(t('agent'), agents.join(', ') || '–', 'v-agent'),
        row(t('model'), models.join(', ') || '–', 'v-model'),
        row(t('dataTime'), timeOf(l?.ts ?? null, true)),
      ),
      h('button', { type: 'button', class: 'link', id: 'road-close' }, t('close')),
    );
    panel.querySelector('#road-close')?.addEventListener('click', () => store.select(null));
    const now = s.dataNowMs ?? Date.now();
    renderRoadChart(chart, {
      history: historyRoad === id ? history : [],
      forecasts: preds,
      nowMs: now,
      fromMs: now - HISTORY_HOURS * 3600_000,
      speedLimitKmh: road.speed_limit_kmh,
    });
    const summary = h('p', { id: 'road-chart-summary', class: 'small' });
    const withSpeed = (historyRoad === id ? history : []).filter((b) => b.speed_kmh !== null);
    summary.textContent = withSpeed.length
      ? t('chartSummary', {
          n: withSpeed.length,
          v: `${num(withSpeed[0]!.speed_kmh)} km/h`,
          f: preds.length,
          m: models.join(', ') || '–',
        })
      : t('chartNoData');
    chart.append(summary);
  };
  const view = frameScheduler(render);
  const timer = setInterval(() => void loadHistory(), HISTORY_REFRESH_MS);
  const offs = [
    store.on('selection', () => {
      history = [];
      historyRoad = null;
      view.schedule();
      void loadHistory();
    }),
    store.on('live', (ids) => {
      if (store.state.selectedRoad && (!ids || ids.includes(store.state.selectedRoad))) view.schedule();
    }),
    store.on('predictions', (ids) => {
      if (store.state.selectedRoad && (!ids || ids.includes(store.state.selectedRoad))) view.schedule();
    }),
    store.on('network', () => view.schedule()),
    store.on('incidents', () => view.schedule()),
  ];
  render();
  return () => {
    clearInterval(timer);
    view.cancel();
    for (const o of offs) o();
    panel.replaceChildren();
    chart.replaceChildren();
  };
}
