/** A TCP proxy to a broker that can be cut (every socket destroyed, new ones refused) and restored. */
import { createConnection, createServer } from 'node:net';

export async function linkProxy(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  let up = true;
  const server = createServer((inbound) => {
    if (!up) return inbound.destroy();
    const outbound = createConnection({ host: hostname, port: Number(port) });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${server.address().port}`,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}
