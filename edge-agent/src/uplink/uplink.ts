import { readFileSync } from 'node:fs';
import { CityFlowError } from '@cityflow/protocol';
import type { AgentConfig } from '../config.js';
import type { Metrics } from '../health/metrics.js';
import type { Logger } from '../logger.js';
import { C, type MetaStore } from '../storage/meta-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { AGENT_VERSION } from '../version.js';
import { Drainer } from './drainer.js';
import { HubLink, type HubLinkOptions } from './hub-link.js';

export interface UplinkHandlers {
  connected(): void;
  disconnected(): void;
  message(topic: string, payload: Buffer, retained: boolean): void;
}

/** Wires the hub link and the drainer together, with their metrics and durable counters. */
export function createUplink(
  url: string,
  cfg: AgentConfig,
  outbox: OutboxStore,
  meta: MetaStore,
  metrics: Metrics,
  log: Logger,
  handlers: UplinkHandlers,
): { drainer: Drainer; hub: HubLink } {
  const drainer = new Drainer(
    outbox,
    {
      agentId: cfg.agentId,
      ratePerS: cfg.drainRatePerS,
      batchMaxItems: cfg.batchMaxItems,
      ackTimeoutMs: cfg.ackTimeoutS * 1000,
      maxTries: cfg.maxTries,
      ackWaitMs: 2000,
      tickMs: 100,
    },
    {
      sent: (s, n) => metrics.sent.inc({ stream: s }, n),
      acked: (s, n) => metrics.acked.inc({ stream: s }, n),
      rejected: (s, n) => {
        metrics.rejectedByHub.inc({ stream: s }, n);
        meta.add(C.rejectedByHub, n);
      },
      parked: (s, n) => {
        metrics.parked.inc({ stream: s }, n);
        meta.add(C.parked, n);
      },
      resend: (s, reason) => metrics.resends.inc({ stream: s, reason }),
    },
    log.child({ mod: 'drain' }),
  );
  const hub: HubLink = new HubLink(
    {
      url,
      agentId: cfg.agentId,
      username: cfg.hubUsername,
      password: cfg.hubPassword,
      tls: readTlsFiles(cfg),
      version: AGENT_VERSION,
      backoffBaseMs: cfg.backoffBaseMs,
      backoffMaxMs: cfg.backoffMaxMs,
    },
    {
      connected: () => {
        metrics.hubConnected.set(1);
        drainer.connected((topic, payload) => hub.publish(topic, payload, 1));
        handlers.connected();
      },
      subscribed: () => drainer.subscribed(),
      disconnected: () => {
        metrics.hubConnected.set(0);
        drainer.disconnected();
        handlers.disconnected();
      },
      message: (topic, payload, retained) => handlers.message(topic, payload, retained),
      reconnecting: () => metrics.reconnects.inc(),
    },
    log.child({ mod: 'hub' }),
  );
  return { drainer, hub };
}

/** The agent's TLS files, read once at start (a replaced certificate takes effect on restart). */
function readTlsFiles(cfg: AgentConfig): HubLinkOptions['tls'] {
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new CityFlowError('CF_INVALID_CONFIG', `${flag}: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  const tls = {
    ca: read('--hub-ca', cfg.hubCa),
    cert: read('--hub-cert', cfg.hubCert),
    key: read('--hub-key', cfg.hubKey),
  };
  return Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined));
}
