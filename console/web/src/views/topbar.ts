import { t, timeOf } from '../i18n.js';
import { staleForS } from '../road-state.js';
import type { Store } from '../store.js';
import { byId } from './dom.js';

/** Data clock, connection state and the "stale" alert. */
export function mountTopbar(store: Store): () => void {
  const clock = byId('clock');
  const conn = byId('conn');
  const stale = byId('stale');
  const render = () => {
    const s = store.state;
    clock.hidden = s.dataNowMs === null;
    clock.textContent = `${t('dataTime')}: ${timeOf(s.dataNowMs, true)}`;
    conn.hidden = false;
    const c = s.conn;
    conn.dataset.state = c.state;
    conn.textContent =
      c.state === 'live'
        ? t('live')
        : c.state === 'retrying'
          ? t('reconnecting', { s: c.retryInS ?? 0 })
          : t('connecting');
    const quiet = staleForS(s, Date.now());
    stale.hidden = quiet === null;
    stale.textContent = quiet === null ? '' : t('stale', { s: quiet });
    document.body.classList.toggle('is-stale', quiet !== null);
  };
  const offs = [store.on('clock', render), store.on('conn', render)];
  render();
  return () => {
    for (const o of offs) o();
    clock.hidden = conn.hidden = stale.hidden = true;
    document.body.classList.remove('is-stale');
  };
}
