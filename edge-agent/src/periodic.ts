import type { Logger } from './logger.js';

/**
 * The agent's interval timers: set up here, all cleared by `clear()` at stop. A task that throws is
 * logged and runs again at its next interval: one failing feature must not stop the others.
 */
export class Periodic {
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly log: Logger) {}

  every(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        this.log.error({ err: e }, 'periodic task failed');
      }
    }, ms);
    this.timers.push(t);
    return t;
  }

  /** Runs `fn` at a new interval instead of `old`'s (a setting from the hub changed it). */
  reschedule(old: NodeJS.Timeout, ms: number, fn: () => void): NodeJS.Timeout {
    clearInterval(old);
    this.timers = this.timers.filter((t) => t !== old);
    return this.every(ms, fn);
  }

  clear(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
