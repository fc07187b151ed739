import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningHub } from '../src/hub.js';
import { testHub, until } from './helpers.js';

describe('WebSocket client hygiene', () => {
  let hub: RunningHub;
  let url: string;
  beforeAll(async () => {
    hub = await testHub({ wsHeartbeatMs: 100, wsMaxBufferedBytes: 64 * 1024 });
    const token = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'w@c.test', password: 'password123' },
      })
    ).json().token;
    url = `${hub.apiUrl.replace('http', 'ws')}/ws/live?token=${token}`;
  });
  afterAll(async () => hub?.stop());

  const open = async (opts: WebSocket.ClientOptions = {}) => {
    const ws = new WebSocket(url, opts);
    await new Promise((r) => ws.once('open', r));
    return ws;
  };

  it('drops a client that stops answering pings, keeps one that answers', async () => {
    const alive = await open();
    const silent = await open({ autoPong: false });
    const closed = new Promise((r) => silent.once('close', r));
    await closed;
    await new Promise((r) => setTimeout(r, 300));
    expect(alive.readyState).toBe(WebSocket.OPEN);
    alive.close();
  });

  it('drops a client that does not read instead of buffering for it without bound', async () => {
    // a hub with the default 30 s heartbeat, so the stalled client is dropped for its backlog alone
    await hub.stop();
    hub = await testHub({ wsMaxBufferedBytes: 64 * 1024 });
    const token = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'w@c.test', password: 'password123' },
      })
    ).json().token;
    url = `${hub.apiUrl.replace('http', 'ws')}/ws/live?token=${token}`;
    const reader = await open();
    let got = 0;
    reader.on('message', () => got++);
    // a raw TCP client that completes the WebSocket handshake and then never reads again
    const u = new URL(url);
    const stalled = connect(Number(u.port), u.hostname);
    await new Promise((r) => stalled.once('connect', r));
    stalled.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise((r) => stalled.once('readable', r));
    await new Promise((r) => setTimeout(r, 100));
    const big = 'x'.repeat(32 * 1024);
    const agent = {
      agent_id: 'A1',
      online: true,
      last_seen: null,
      backlog: 0,
      clock_skew_s: 0,
      version: big,
    };
    // ~48 MB towards the stalled client: more than the kernel buffers, so it piles up in the hub
    // (a couple of messages per tick: a reading client drains between ticks, the stalled one cannot)
    for (let i = 0; i < 1500; i++) {
      hub.bus.publish({ type: 'agent', data: agent });
      if (i % 2) await new Promise((r) => setTimeout(r, 1));
    }
    const dropped = async () =>
      Number(
        (await hub.app.inject({ url: '/metrics' })).body.match(/cityflow_hub_ws_dropped_total (\d+)/)?.[1] ??
          0,
      );
    await until(async () => (await dropped()) >= 1, 10_000);
    await until(() => got === 1500, 10_000);
    reader.close();
    stalled.destroy();
  });
});
