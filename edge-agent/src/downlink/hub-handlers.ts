import { topics } from '@cityflow/protocol';
import type { AgentClock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { ReadingsStore } from '../storage/readings-store.js';
import type { Drainer } from '../uplink/drainer.js';
import type { HubLink } from '../uplink/hub-link.js';
import { answerDiag } from './diagnostics.js';
import { routeHubMessage } from './hub-messages.js';
import type { LocalAdviceService } from './local-advice.js';
import type { SliceState } from './slice.js';

export interface DownlinkParts {
  agentId: string;
  log: Logger;
  clock: AgentClock;
  slice: SliceState;
  advice: LocalAdviceService;
  readings: ReadingsStore;
  /** the uplink's parts as they are now (none while standalone) */
  drainer(): Drainer | null;
  hub(): HubLink | null;
  /** settings a config from the hub carries (they override the local file until the next config) */
  applySettings(settings: { live_interval_s?: number; forecast_interval_s?: number } | undefined): void;
}

/** Hands one hub message, validated by `routeHubMessage`, to its feature: acks, network slice, advice, diagnostics. */
export function handleHubMessage(p: DownlinkParts, topic: string, payload: Buffer, retained: boolean): void {
  routeHubMessage(topic, payload, {
    agentId: p.agentId,
    log: p.log,
    ack: (ack) => {
      // a retained ack is as old as the hub's last one (hours, if it is down): no skew from it
      if (!retained) p.clock.observeHubTime(Date.parse(ack.hub_ts));
      p.drainer()?.onAck(ack);
    },
    config: (config) => {
      const errors = p.slice.apply(config);
      if (errors.length) return errors;
      p.applySettings(config.settings);
      p.log.info({ issued_at: config.issued_at, sensors: p.slice.sensors()?.size }, 'network slice received');
      return [];
    },
    advice: (advice) => {
      p.advice.update(advice);
      void p.advice.publish(true).catch(() => {});
    },
    diag: (request) => {
      const res = answerDiag(p.agentId, p.readings, request);
      p.hub()
        ?.publish(topics.uplink(p.agentId, 'diag'), JSON.stringify(res), 1)
        .catch(() => {});
    },
  });
}
