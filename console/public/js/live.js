// `/ws/live?token=` with reconnects (exponential backoff, full jitter, capped at 30 s).
export function connectLive(token, { onMessage, onState }) {
  let ws;
  let closed = false;
  let attempt = 0;
  let timer;

  const open = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(`${proto}//${location.host}/ws/live?token=${encodeURIComponent(token)}`);
    ws.addEventListener('open', () => {
      attempt = 0;
      onState('open');
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg && typeof msg.type === 'string') onMessage(msg);
    });
    ws.addEventListener('close', () => {
      if (closed) return;
      onState('closed');
      const delay = Math.random() * Math.min(30_000, 1000 * 2 ** attempt++);
      timer = setTimeout(open, delay);
    });
  };
  open();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      ws?.close();
    },
  };
}
