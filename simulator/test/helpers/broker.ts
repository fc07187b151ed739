import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

export interface TestBroker {
  url: string;
  port: number;
  messages: Array<{ topic: string; payload: string }>;
  stop(): Promise<void>;
}

/** A real aedes broker on a free port, recording every message published by a client. */
export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const messages: TestBroker['messages'] = [];
  broker.on('publish', (packet, client) => {
    if (client) messages.push({ topic: packet.topic, payload: packet.payload.toString() });
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    messages,
    async stop() {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
