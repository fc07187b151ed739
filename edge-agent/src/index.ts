import { Agent } from './agent.js';
import { type AgentConfig, resolveConfig } from './config.js';

export { Agent } from './agent.js';
export { AgentClock, type ClockMode } from './clock.js';
export {
  type AgentConfig,
  AgentConfigFileSchema,
  checkConfigFile,
  DEFAULTS,
  readConfigFile,
  resolveConfig,
} from './config.js';
export { fullJitterDelay } from './uplink/backoff.js';
export { batchPayload } from './uplink/drainer.js';
export { AGENT_VERSION } from './version.js';

/** Options of `startAgent`: the config keys (camelCase, as in the config file); ports 0 = free port. */
export interface AgentOptions extends Partial<Omit<AgentConfig, 'agentId' | 'dataDir'>> {
  agentId: string;
  dataDir: string;
  mqttPort?: number;
  httpPort?: number;
  mqttHost?: string;
  hubUrl?: string;
  hubUsername?: string;
  hubPassword?: string;
  clock?: 'wall' | 'data';
  liveIntervalS?: number;
}

export interface RunningAgent {
  mqttUrl: string;
  httpUrl: string;
  status(): Record<string, unknown>;
  stop(): Promise<void>;
  /** The agent itself, for tests that need more than the stable surface. */
  agent: Agent;
}

/**
 * Starts an agent in this process. Unlike the CLI, unset ports default to 0 (free port) and hosts to
 * 127.0.0.1, so tests of other packages can start several agents side by side.
 */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const config = resolveConfig(
    {},
    {
      mqttPort: 0,
      httpPort: 0,
      mqttHost: '127.0.0.1',
      httpHost: '127.0.0.1',
      logLevel: process.env.CITYFLOW_LOG_LEVEL ?? 'warn',
      ...opts,
    },
  );
  const agent = new Agent(config);
  await agent.start();
  return {
    mqttUrl: agent.mqttUrl,
    httpUrl: agent.httpUrl,
    status: () => agent.status(),
    stop: () => agent.stop(),
    agent,
  };
}
