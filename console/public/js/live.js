// `/ws/live?token=` with reconnects (exponential backoff, full jitter, capped at 30 s).
// Close code 4001 = the hub revoked this token (logout elsewhere): reconnecting cannot help.
export const CLOSE_REVOKED = 4001;

export function connectLive(token, { onMessage, onState, onRevoked }) {
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
    ws.addEventListener('close', (ev) => {
      if (closed) return;
      if (ev.code === CLOSE_REVOKED) {
        closed = true;
        onState('closed');
        onRevoked?.();
        return;
      }
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
