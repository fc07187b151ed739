import { type MessageKey, num, t } from '../i18n.js';
import type { Store } from '../store.js';
import { byId, h } from './dom.js';

/** Under a second in milliseconds (a healthy local uplink is tens of ms), else seconds. */
const latency = (s: number | null) => (s === null ? '–' : s < 1 ? `${num(s * 1000, 0)} ms` : `${num(s)} s`);

/**
 * Agents online: from the live agent list (agent frames, within seconds of a last will) once it is in,
 * so the figure agrees with the map's markers; the KPI answer (refreshed every 10 s) until then.
 */
function agentsOnline(store: Store, k: { agents_online: number; agents_total: number }): string {
  const agents = store.state.agents;
  if (!agents.size) return `${k.agents_online} / ${k.agents_total}`;
  let online = 0;
  for (const a of agents.values()) if (a.online) online++;
  return `${online} / ${agents.size}`;
}

/** The demo KPIs from `GET /api/kpis` (city-wide, computed by the hub from the shared database). */
export function mountKpis(store: Store): () => void {
  const dl = byId('kpis');
  const render = () => {
    const k = store.state.kpis;
    const item = (key: MessageKey, value: string, id: string) =>
      h('div', { class: 'kpi' }, h('dt', {}, t(key)), h('dd', { id }, value));
    if (!k) {
      dl.replaceChildren();
      return;
    }
    dl.replaceChildren(
      item('kpiLatency', latency(k.ingest_latency_s), 'kpi-latency'),
      item('kpiRate', num(k.messages_per_s), 'kpi-rate'),
      item('kpiErrors', k.error_rate === null ? '–' : `${num(k.error_rate * 100, 2)} %`, 'kpi-errors'),
      item('kpiCongestion', num(k.mean_forecast_congestion, 2), 'kpi-congestion'),
      item('kpiCo2', `${num(k.co2_gain_kg_per_h)} kg/h`, 'kpi-co2'),
      item('kpiAgents', agentsOnline(store, k), 'kpi-agents'),
    );
  };
  const offs = [store.on('kpis', render), store.on('agents', render)];
  render();
  return () => {
    for (const off of offs) off();
    dl.replaceChildren();
  };
}
