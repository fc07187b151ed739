import { type Logger, pino } from 'pino';

/** Logs go to stderr so stdout stays for results (`--json`) and the demo's banner. */
export function createLogger(name = 'sim', level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2));
}
export type { Logger };
