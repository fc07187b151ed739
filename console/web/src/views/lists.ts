import { congestionLevel } from '@cityflow/protocol/congestion';
import { type MessageKey, num, t, timeOf } from '../i18n.js';
import { busiest, roadLabel } from '../road-state.js';
import type { Store } from '../store.js';
import { byId, frameScheduler, h, keepFocus } from './dom.js';

const BUSIEST_N = 8;

/** "Most congested now" and the road finder: keyboard routes to any road without the map. */
export function mountBusiest(store: Store): () => void {
  const list = byId('busiest');
  const search = byId<HTMLInputElement>('road-search');
  const options = byId('road-options');
  let sig = '';
  const render = () => {
    const top = busiest(store.state, BUSIEST_N);
    // Unchanged ranking: keep the DOM (and the keyboard focus inside it).
    const next = `${top.map((r) => `${r.roadId}:${r.score.toFixed(2)}`).join('|')}|${document.documentElement.lang}`;
    if (next === sig) return;
    sig = next;
    keepFocus(list, 'data-road-id', () =>
      list.replaceChildren(
        ...top.map(({ roadId, score }) => {
          const level = congestionLevel(score);
          return h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: `road-button ${level}`, 'data-road-id': roadId },
              h('span', { class: `swatch ${level}` }),
              `${roadLabel(store.state, roadId)} — ${t(`level${level}` as MessageKey)} ${num(score, 2)}`,
            ),
          );
        }),
      ),
    );
  };
  const onClick = (e: Event) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>('[data-road-id]')?.dataset.roadId;
    if (id) store.select(id);
  };
  const onSearch = () => {
    const v = search.value.trim();
    const id = store.state.roads.has(v)
      ? v
      : [...store.state.roads.values()].find((r) => `${r.name} (${r.road_id})` === v)?.road_id;
    if (id) store.select(id);
  };
  const fillOptions = () =>
    options.replaceChildren(
      ...[...store.state.roads.values()].map((r) => h('option', { value: `${r.name} (${r.road_id})` })),
    );
  list.addEventListener('click', onClick);
  search.addEventListener('change', onSearch);
  const view = frameScheduler(render);
  // The ranking is recomputed at most once a second (5,000 roads sorted per traffic frame would not be).
  const offs = [
    store.on('clock', () => view.schedule()),
    store.on('mode', () => view.schedule()),
    store.on('history', () => view.schedule()),
    store.on('network', fillOptions),
  ];
  render();
  fillOptions();
  return () => {
    view.cancel();
    for (const o of offs) o();
    list.removeEventListener('click', onClick);
    search.removeEventListener('change', onSearch);
    list.replaceChildren();
    options.replaceChildren();
    search.value = '';
  };
}

export function mountIncidents(store: Store): () => void {
  const list = byId('incidents');
  const render = () => {
    const rows = [...store.state.incidents.values()].sort((a, b) =>
      b.detected_at.localeCompare(a.detected_at),
    );
    list.replaceChildren(
      ...(rows.length
        ? rows.map((i) =>
            h(
              'li',
              { 'data-incident-id': i.incident_id },
              h(
                'button',
                { type: 'button', class: 'road-button', 'data-road-id': i.road_id },
                h('span', { class: 'dot incident' }),
                `${roadLabel(store.state, i.road_id)} — ${t('since', { t: timeOf(i.detected_at) })} · ${i.reason}`,
              ),
            ),
          )
        : [h('li', { class: 'muted' }, t('noIncidents'))]),
    );
  };
  const onClick = (e: Event) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>('[data-road-id]')?.dataset.roadId;
    if (id) store.select(id);
  };
  list.addEventListener('click', onClick);
  const off = store.on('incidents', render);
  render();
  return () => {
    off();
    list.removeEventListener('click', onClick);
    list.replaceChildren();
  };
}

/** Reroute advice (the store keeps only what is still valid); selecting one draws its path on the map. */
export function mountReroutes(store: Store): () => void {
  const box = byId('reroutes');
  const render = () => {
    const rows = [...store.state.reroutes.values()].sort(
      (a, b) => b.eta_gain_min - a.eta_gain_min || a.route_id.localeCompare(b.route_id),
    );
    if (!rows.length) {
      box.replaceChildren(h('p', { class: 'muted' }, t('noReroutes')));
      return;
    }
    const head = h(
      'tr',
      {},
      ...(['congestedRoad', 'alternative', 'etaGain', 'co2Gain', 'diverted'] as const).map((k) =>
        h('th', { scope: 'col' }, t(k)),
      ),
      // The buttons say what they do: the column's name is for screen readers only (saves its width).
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('actions'))),
    );
    const body = rows.map((r) => {
      const selected = store.state.selectedReroute === r.route_id;
      return h(
        'tr',
        { 'data-route-id': r.route_id, class: selected ? 'selected' : undefined },
        h(
          'td',
          {},
          roadLabel(store.state, r.route_id),
          r.incident_id ? h('span', { class: 'incident-flag' }, ` ⚠ ${t('incidentFlag')}`) : null,
        ),
        h('td', { class: 'path' }, r.path.join(' → ')),
        h('td', {}, `${num(r.eta_gain_min)} min`),
        h('td', {}, `${num(r.estimated_co2_gain)} kg/h`),
        h(
          'td',
          {},
          `${num(r.diverted_share * 100, 0)} %`,
          h('br'),
          h('span', { class: 'small muted' }, `${t('validUntil')} ${timeOf(r.valid_until)}`),
        ),
        h(
          'td',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'show-path',
              'data-route-id': r.route_id,
              // A toggle keeps its label; aria-pressed (and its pressed look) says whether the path is shown.
              'aria-pressed': String(selected),
              title: t('showPathTitle'),
            },
            t('showPath'),
          ),
        ),
      );
    });
    keepFocus(box, 'data-route-id', () =>
      box.replaceChildren(
        h(
          'div',
          { class: 'table-wrap' },
          h('table', { class: 'reroutes' }, h('thead', {}, head), h('tbody', {}, ...body)),
        ),
      ),
    );
  };
  const onClick = (e: Event) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>('button.show-path')?.dataset.routeId;
    if (!id) return;
    // The table is rebuilt with the selection; keepFocus leaves the focus on this button.
    store.selectReroute(store.state.selectedReroute === id ? null : id);
  };
  box.addEventListener('click', onClick);
  const off = store.on('reroutes', render);
  render();
  return () => {
    off();
    box.removeEventListener('click', onClick);
    box.replaceChildren();
  };
}
