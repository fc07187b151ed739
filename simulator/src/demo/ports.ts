import { createServer } from 'node:net';
import { CityFlowError } from '@cityflow/protocol';

export interface PortClaim {
  port: number;
  /** who needs it, e.g. "hub API" or "agent-RIV-TEM MQTT" */
  owner: string;
}

/** True when nothing listens on the port (tries to bind it on all interfaces, then releases it). */
export function isPortFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Checks every port the demo will need before starting anything, so a busy port is one clear
 * error instead of a half-started city. Lists every busy port at once.
 */
export async function assertPortsFree(claims: PortClaim[]): Promise<void> {
  const seen = new Map<number, string>();
  const problems: string[] = [];
  for (const c of claims) {
    const other = seen.get(c.port);
    if (other) problems.push(`port ${c.port}: wanted by both ${other} and ${c.owner}`);
    seen.set(c.port, c.owner);
    if (!(c.port > 0 && c.port < 65536)) problems.push(`port ${c.port} (${c.owner}): not a valid TCP port`);
  }
  const busy = await Promise.all(claims.map(async (c) => ((await isPortFree(c.port)) ? undefined : c)));
  for (const c of busy) if (c) problems.push(`port ${c.port} (${c.owner}) is already in use`);
  if (problems.length)
    throw new CityFlowError(
      'CF_PORT_IN_USE',
      `cannot start the demo: ${problems.join('; ')}. Stop whatever holds it, or choose other ports (--port, --hub-mqtt-port, --agent-port-base).`,
      problems,
    );
}
