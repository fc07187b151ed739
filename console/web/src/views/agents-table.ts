import type { AgentCredentials, AgentInfo, DiagResponse } from '@cityflow/protocol';
import { type Api, ApiRequestError } from '../api.js';
import { type MessageKey, num, t, timeOf } from '../i18n.js';
import { atLeast } from '../session.js';
import type { Store } from '../store.js';
import { byId, h } from './dom.js';

type Alarm = { code: string; since: string; message: string };
/** `alarms` arrives with the field-faults issue; until then (or if malformed) an agent has none. */
export function alarmsOf(a: AgentInfo): Alarm[] {
  const raw = (a as { alarms?: unknown }).alarms;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (x): x is Alarm =>
      typeof x === 'object' &&
      x !== null &&
      typeof (x as Alarm).code === 'string' &&
      typeof (x as Alarm).message === 'string',
  );
}

const COLUMNS = ['agentId', 'status', 'lastSeen', 'backlog', 'clockSkew', 'version', 'alarms'] as const;
type Column = (typeof COLUMNS)[number];
const sortValue: Record<Column, (a: AgentInfo) => string | number> = {
  agentId: (a) => a.agent_id,
  status: (a) => (a.online ? 1 : 0),
  lastSeen: (a) => (a.last_seen ? Date.parse(a.last_seen) : 0),
  backlog: (a) => a.backlog ?? -1,
  clockSkew: (a) => Math.abs(a.clock_skew_s ?? 0),
  version: (a) => a.version ?? '',
  alarms: (a) => alarmsOf(a).length,
};

/**
 * The agents table, sortable by any column (a header button; aria-sort says the order). Admins can add
 * an agent and rotate its credentials, operators can request diagnostics; viewers get neither.
 */
export function mountAgents(store: Store, api: Api): () => void {
  const table = byId<HTMLTableElement>('agents-table');
  const summary = byId('agents-summary');
  const form = byId<HTMLFormElement>('add-agent');
  const result = byId('agent-action-result');
  let sort: { col: Column; dir: 1 | -1 } = { col: 'agentId', dir: 1 };
  const user = () => store.state.session?.user;

  const render = () => {
    const agents = [...store.state.agents.values()];
    const on = agents.filter((a) => a.online).length;
    summary.textContent = t('agentsSummary', { on, all: agents.length });
    form.hidden = !atLeast(user(), 'admin');
    const f = sortValue[sort.col];
    agents.sort((a, b) => {
      const va = f(a);
      const vb = f(b);
      return (va < vb ? -1 : va > vb ? 1 : 0) * sort.dir || a.agent_id.localeCompare(b.agent_id);
    });
    const canAct = atLeast(user(), 'operator');
    const head = h(
      'tr',
      {},
      ...COLUMNS.map((c) =>
        h(
          'th',
          {
            scope: 'col',
            'aria-sort': sort.col === c ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none',
          },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              'data-sort': c,
              'aria-label': t('sortBy', { c: t(c as MessageKey) }),
            },
            t(c as MessageKey),
            sort.col === c ? (sort.dir === 1 ? ' ▲' : ' ▼') : '',
          ),
        ),
      ),
      canAct ? h('th', { scope: 'col' }, t('actions')) : null,
    );
    const rows = agents.map((a) => {
      const alarms = alarmsOf(a);
      return h(
        'tr',
        { 'data-agent-id': a.agent_id, class: a.online ? 'online' : 'offline' },
        h('td', {}, a.agent_id),
        h(
          'td',
          { class: 'status' },
          h('span', { class: `dot ${a.online ? 'agent-on' : 'agent-off'}` }),
          t(a.online ? 'online' : 'offline'),
        ),
        h('td', {}, timeOf(a.last_seen, true)),
        h('td', {}, a.backlog === null ? '–' : String(a.backlog)),
        h('td', {}, a.clock_skew_s === null ? '–' : `${num(a.clock_skew_s, 2)} s`),
        h('td', {}, a.version ?? '–'),
        h(
          'td',
          { class: alarms.length ? 'alarms' : undefined },
          alarms.map((x) => `${x.code}: ${x.message}`).join('; ') || '–',
        ),
        canAct
          ? h(
              'td',
              {},
              h(
                'button',
                { type: 'button', 'data-action': 'diag', 'data-agent': a.agent_id },
                t('diagnostics'),
              ),
              atLeast(user(), 'admin')
                ? h(
                    'button',
                    { type: 'button', 'data-action': 'rotate', 'data-agent': a.agent_id },
                    t('rotate'),
                  )
                : null,
            )
          : null,
      );
    });
    const focused = (document.activeElement as HTMLElement | null)?.dataset ?? {};
    table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
    // A live agent frame rebuilds the table: keep the keyboard focus on the same control.
    const again =
      focused.sort !== undefined
        ? table.querySelector<HTMLElement>(`[data-sort="${focused.sort}"]`)
        : focused.action && focused.agent
          ? table.querySelector<HTMLElement>(
              `[data-action="${focused.action}"][data-agent="${CSS.escape(focused.agent)}"]`,
            )
          : null;
    again?.focus();
  };

  const show = (text: string) => {
    result.textContent = text;
  };
  const fail = (e: unknown) =>
    show(t('actionFailed', { msg: e instanceof ApiRequestError ? e.message : String(e) }));
  const onClick = async (e: Event) => {
    const el = e.target as HTMLElement;
    const sortBtn = el.closest<HTMLElement>('[data-sort]');
    if (sortBtn) {
      const col = sortBtn.dataset.sort as Column;
      sort = { col, dir: sort.col === col ? (-sort.dir as 1 | -1) : 1 };
      render();
      return;
    }
    const btn = el.closest<HTMLElement>('[data-action]');
    const id = btn?.dataset.agent;
    if (!btn || !id) return;
    try {
      if (btn.dataset.action === 'rotate') {
        const c = await api.post<AgentCredentials>(`/api/agents/${encodeURIComponent(id)}/credentials`, {});
        show(t('credentialsOnce', { id: c.agent_id, u: c.username, p: c.password }));
      } else {
        const now = store.state.dataNowMs ?? Date.now();
        const r = await api.post<DiagResponse>(`/api/agents/${encodeURIComponent(id)}/diag`, {
          from: new Date(now - 10 * 60_000).toISOString(),
          to: new Date(now + 60_000).toISOString(),
          limit: 50,
        });
        show(t('diagResult', { id, n: r.items.length }));
      }
    } catch (err) {
      fail(err);
    }
  };
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const input = form.querySelector<HTMLInputElement>('input')!;
    try {
      const c = await api.post<AgentCredentials>('/api/agents', { agent_id: input.value.trim() });
      show(t('credentialsOnce', { id: c.agent_id, u: c.username, p: c.password }));
      input.value = '';
    } catch (err) {
      fail(err);
    }
  };
  table.addEventListener('click', onClick);
  form.addEventListener('submit', onSubmit);
  const offs = [store.on('agents', render), store.on('session', render)];
  render();
  return () => {
    for (const o of offs) o();
    table.removeEventListener('click', onClick);
    form.removeEventListener('submit', onSubmit);
    table.replaceChildren();
    summary.textContent = '';
    result.textContent = '';
    form.hidden = true;
  };
}
