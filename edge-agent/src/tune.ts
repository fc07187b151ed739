/**
 * Memory tuning for `cityflow-agent run` on a Pi, applied by the launcher (bin/cityflow-agent.js)
 * before the agent's modules load.
 *
 * V8 grows its young generation (two semi-spaces) up to 16 MB each under allocation pressure —
 * ingest makes a lot of short-lived garbage — and never gives it back: ~32 MB of the agent's RSS
 * after a burst. `--semi-space-growth-factor=1` keeps the semi-spaces at their initial size, and
 * `--optimize-for-size` makes the old generation grow in smaller steps (it took the RSS peak of the
 * paced hour from 113 to 86 MB). Both are read by V8 after start, so no re-exec (and no second
 * process for kill -9 or systemd to miss) is needed.
 *
 * Override: `CITYFLOW_AGENT_V8_FLAGS="…"` replaces the flags (empty = none); `CITYFLOW_AGENT_TUNE=0`
 * switches the tuning off. Start-time flags (`--max-old-space-size`, …) go in NODE_OPTIONS as usual,
 * and glibc's `MALLOC_ARENA_MAX=2` in the service's environment (it cannot be set from inside).
 */
import v8 from 'node:v8';

export const DEFAULT_V8_FLAGS = '--semi-space-growth-factor=1 --optimize-for-size';

/** Applies the tuning for `env`; returns the flags applied ('' when none). */
export function applyRunTuning(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CITYFLOW_AGENT_TUNE === '0') return '';
  const flags = (env.CITYFLOW_AGENT_V8_FLAGS ?? DEFAULT_V8_FLAGS).trim();
  if (flags) v8.setFlagsFromString(flags);
  return flags;
}
