import { HubSettingsSchema, type HubSettings, SETTINGS } from './settings.js';

/**
 * Options as read from the environment. A value that does not convert (`PORT=abc`) stays the string
 * it was, so that `resolveConfig` reports it together with every other problem, quoting it.
 */
export type EnvOptions = { [K in keyof HubSettings]?: HubSettings[K] | string };

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;

/** One variable's text to the type its setting's schema has. */
function convert(schema: (typeof SETTINGS)[number][1], raw: string): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n * (schema.scale ?? 1);
    }
    case 'boolean':
      return TRUE.test(raw) ? true : FALSE.test(raw) ? false : raw;
    case 'array':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/** Reads the hub's environment variables (DESIGN.md "Hub configuration by environment"); unset or empty = default. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvOptions {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of SETTINGS) {
    const raw = schema.env === undefined ? undefined : env[schema.env];
    if (raw !== undefined && raw !== '') out[key] = convert(schema, raw);
  }
  return out as EnvOptions;
}

/** A setting's value as a person writes it in the environment (seconds where the variable is in seconds). */
export function showValue(key: keyof HubSettings, v: unknown): string {
  const scale = HubSettingsSchema.properties[key].scale as number | undefined;
  if (typeof v === 'number') return String(scale ? v / scale : v);
  if (Array.isArray(v)) return v.join(',');
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

const MIB = 1 << 20;
const helpValue = (key: keyof HubSettings, v: unknown) =>
  typeof v === 'number' && v >= MIB && v % MIB === 0 ? `${v / MIB} MiB` : showValue(key, v) || '—';

/** `serve --help`: every variable with its default and meaning, from the settings table. */
export function environmentHelp(): string {
  const rows = SETTINGS.filter(([, s]) => s.env !== undefined).map(([key, s]) => [
    s.env!,
    s.defaultText ?? (s.default === undefined ? '—' : helpValue(key, s.default)),
    s.description,
  ]);
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  return rows.map(([n, d, t]) => `  ${n!.padEnd(w0)}  ${d!.padEnd(w1)}  ${t}`).join('\n');
}
