import { type Logger, pino } from 'pino';

export type { Logger };

/** One root logger per agent; modules take `log.child({ mod })`. Logs go to stderr so `--json` stdout stays clean. */
export function createLogger(level: string, agentId: string): Logger {
  return pino({ level, base: { agent_id: agentId } }, pino.destination(2));
}
