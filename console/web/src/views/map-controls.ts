import { t, timeOf } from '../i18n.js';
import type { MapMode, Store } from '../store.js';
import { byId } from './dom.js';

/** The live / T+15 / T+30 / T+60 / history switch and the history time bar. */
export function mountMapControls(store: Store, loadHistory: () => Promise<void>): () => void {
  const fieldset = byId<HTMLFieldSetElement>('mode');
  const bar = byId('timebar');
  const range = byId<HTMLInputElement>('history-range');
  const label = byId('history-label');
  const back = byId<HTMLButtonElement>('back-live');

  const onChange = async (e: Event) => {
    const v = (e.target as HTMLInputElement).value;
    if (v === 'history') {
      label.textContent = t('historyLoading');
      bar.hidden = false;
      await loadHistory();
      store.setMode({ kind: 'history' });
    } else {
      const mode: MapMode =
        v === 'live' ? { kind: 'live' } : { kind: 'forecast', horizon: Number(v) as 15 | 30 | 60 };
      store.setMode(mode);
    }
  };
  const onRange = () => store.setHistoryIndex(Number(range.value));
  const onBack = () => {
    const live = fieldset.querySelector<HTMLInputElement>('input[value="live"]')!;
    live.checked = true;
    store.setMode({ kind: 'live' });
    live.focus();
  };
  fieldset.addEventListener('change', onChange);
  range.addEventListener('input', onRange);
  back.addEventListener('click', onBack);

  const render = () => {
    const s = store.state;
    document.body.dataset.mode = s.mode.kind === 'forecast' ? `t${s.mode.horizon}` : s.mode.kind;
    bar.hidden = s.mode.kind !== 'history';
    const h = s.history;
    if (s.mode.kind === 'history' && h) {
      range.max = String(Math.max(0, h.ts.length - 1));
      range.value = String(s.historyIndex);
      const at = timeOf(h.ts[s.historyIndex] ?? null, true);
      label.textContent = t('historyAt', { t: at });
      range.setAttribute('aria-valuetext', at);
    }
  };
  const offs = [store.on('mode', render), store.on('history', render)];
  render();
  return () => {
    for (const o of offs) o();
    fieldset.removeEventListener('change', onChange);
    range.removeEventListener('input', onRange);
    back.removeEventListener('click', onBack);
    fieldset.querySelector<HTMLInputElement>('input[value="live"]')!.checked = true;
    bar.hidden = true;
  };
}
