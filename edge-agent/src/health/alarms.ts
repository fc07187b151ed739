import { type AgentAlarm, AgentAlarmSchema, ErrorCodes } from '@cityflow/protocol';

/** The health schema's bound: a longer message would get the whole health message refused by the hub. */
const MAX_MESSAGE = AgentAlarmSchema.properties.message.maxLength ?? 200;

export type AlarmCode = 'CF_DISK_FULL' | 'CF_DB_CORRUPT' | 'CF_CLOCK_UNSYNCED' | 'CF_PARKED_ROWS';

/**
 * The agent's active alarms (`status --json`, /status, the health uplink, and from there the hub's
 * `GET /api/agents`). Each condition is set on or off by whoever observes it; `since` is when it
 * last turned on, so a flapping condition shows its latest onset, and a steady one keeps its first.
 * Held in memory: the disk-full alarm must be reportable precisely when nothing can be written.
 */
export class Alarms {
  private readonly active = new Map<AlarmCode, AgentAlarm>();

  set(code: AlarmCode, on: boolean, message: string = ErrorCodes[code], sinceMs = Date.now()): void {
    if (!on) {
      this.active.delete(code);
      return;
    }
    const cur = this.active.get(code);
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    this.active.set(code, { code, since: cur?.since ?? new Date(sinceMs).toISOString(), message: text });
  }

  has(code: AlarmCode): boolean {
    return this.active.has(code);
  }

  list(): AgentAlarm[] {
    return [...this.active.values()].sort((a, b) => a.code.localeCompare(b.code));
  }
}
