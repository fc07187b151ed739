import type { Network } from '@cityflow/protocol';
import { CityFlowError } from '@cityflow/protocol';
import type { DemoFile } from './demo-file.js';

/**
 * Which broker each agent's sensors publish to: every agent to one `--broker`, or each agent to
 * its `mqtt_url` from demo.json. Fails listing every agent of the network that has no broker.
 */
export function resolveBrokers(
  net: Network,
  source: { broker?: string; demo?: DemoFile },
): Map<string, string> {
  const out = new Map<string, string>();
  const missing: string[] = [];
  for (const agentId of net.agents.keys()) {
    const url = source.broker ?? source.demo?.agents.find((a) => a.agent_id === agentId)?.mqtt_url;
    if (url) out.set(agentId, url);
    else missing.push(agentId);
  }
  if (missing.length)
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `no broker for agent(s) ${missing.join(', ')}: start the demo (cityflow-sim demo) or pass --broker`,
      missing.map((a) => `agents.${a}: no mqtt_url`),
    );
  return out;
}
