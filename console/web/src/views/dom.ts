/** Tiny element builder: text goes through textContent, never innerHTML (API data is untrusted). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

/** Coalesces renders of one view to at most one per animation frame. */
export function frameScheduler(render: () => void): { schedule(): void; cancel(): void } {
  let frame: number | null = null;
  return {
    schedule() {
      if (frame === null)
        frame = requestAnimationFrame(() => {
          frame = null;
          render();
        });
    },
    cancel() {
      if (frame !== null) cancelAnimationFrame(frame);
      frame = null;
    },
  };
}

/**
 * Rebuilds `box` with `rebuild` and, when the keyboard focus was on an element of it carrying `attr`,
 * puts it back on the rebuilt element with the same value: live lists re-rank under an operator's
 * keyboard, and a rebuilt list would otherwise drop the focus to the page.
 */
export function keepFocus(box: HTMLElement, attr: string, rebuild: () => void): void {
  const focused = document.activeElement;
  const value = focused instanceof HTMLElement && box.contains(focused) ? focused.getAttribute(attr) : null;
  rebuild();
  if (value === null) return;
  // The same kind of element: a table row and the button in it may carry the same value.
  const tag = (focused as HTMLElement).tagName.toLowerCase();
  box.querySelector<HTMLElement>(`${tag}[${attr}="${CSS.escape(value)}"]`)?.focus();
}
