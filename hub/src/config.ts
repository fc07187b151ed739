import { randomBytes } from 'node:crypto';
import { CityFlowError, type SchemaIssue, compileChecker } from '@cityflow/protocol';
import { type SeedAgent, readAgentsFile } from './agents-file.js';
import { type EnvOptions, showValue } from './config/from-env.js';
import {
  HubSettingsSchema,
  type HubSettings,
  SETTINGS,
  type SettingKey,
  settingName,
} from './config/settings.js';
import { type TransportConfig, resolveTransport } from './config/transport.js';

export { type EnvOptions, environmentHelp, optionsFromEnv } from './config/from-env.js';
export { HubSettingsSchema, type HubSettings } from './config/settings.js';

export type ClockMode = HubSettings['clock'];

/** Options of `startHub` (the programmatic API); each one falls back to its variable, then its default. */
export type HubOptions = Partial<HubSettings> & {
  /** where logs go (default stdout); tests capture them to check redaction */
  logStream?: { write(line: string): void };
};

/** What `startHub` and `resolveConfig` accept: typed options, or options read from the environment. */
export type HubInput = EnvOptions & Pick<HubOptions, 'logStream'>;

type TransportFile = 'mqttTlsCert' | 'mqttTlsKey' | 'mqttTlsPort' | 'mqttTlsCa' | 'httpsCert' | 'httpsKey';

export interface HubConfig
  extends Omit<HubSettings, TransportFile | keyof TransportConfig | 'jwtSecret' | 'rerouteClear'>,
    TransportConfig {
  jwtSecret: string;
  jwtSecretGenerated: boolean;
  rerouteClear: number;
  /** parsed from agentsFile (secrets: never log) */
  seedAgents: SeedAgent[];
}

const check = compileChecker(HubSettingsSchema);
const DEFAULTS = Object.fromEntries(
  SETTINGS.filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, s.default]),
) as Partial<HubSettings>;

/** The value's problem in a few words, from the kind of TypeBox error. */
function problem(i: SchemaIssue): string {
  if (/Minimum$/.test(i.kind)) return 'too small';
  if (/Maximum$/.test(i.kind)) return 'too large';
  const words: Record<string, string> = {
    StringMinLength: 'too short',
    StringPattern: 'not of that form',
    Integer: 'not an integer',
    Number: 'not a finite number',
    Boolean: 'not true or false',
    String: 'not text',
    Union: 'not one of these',
    Array: 'not a list',
  };
  return words[i.kind] ?? i.message.toLowerCase();
}

/** `PORT: expected a port 0..65535, got "abc" (not an integer)`; a secret shows its length only. */
function errorLine(key: SettingKey, value: unknown, i: SchemaIssue): string {
  const meta = HubSettingsSchema.properties[key];
  const shown = meta.secret
    ? typeof value === 'string'
      ? `${value.length} characters`
      : typeof value
    : typeof value === 'string'
      ? JSON.stringify(value)
      : showValue(key, value);
  return `${settingName(key)}: expected ${meta.expected}, got ${shown} (${problem(i)})`;
}

/**
 * Validates options (or `optionsFromEnv()`) against the settings schema, then the rules that span
 * several settings, and fills defaults. Every problem is reported at once, one line each
 * (CF_INVALID_CONFIG with the lines as `details`).
 */
export function resolveConfig(opts: HubInput): HubConfig {
  const given = Object.entries(opts).filter(([k, v]) => v !== undefined && k in HubSettingsSchema.properties);
  // a copy: no config shares a default array (corsOrigins) with another
  const v: Record<string, unknown> = { ...structuredClone(DEFAULTS), ...Object.fromEntries(given) };
  // unset: just under the threshold (hysteresis), itself then checked like a given value
  if (v.rerouteClear === undefined && typeof v.rerouteThreshold === 'number')
    v.rerouteClear = Math.max(0, v.rerouteThreshold - 0.1);
  const errors: string[] = [];
  const failed = new Set<string>();
  for (const i of check.issues(v)) {
    const key = i.path.split('.')[0] as SettingKey;
    if (failed.has(key)) continue;
    failed.add(key);
    errors.push(errorLine(key, v[key], i));
    // the rules below see the default in its place (a setting without one stays, so that "set both
    // or neither" still sees it set): one problem, one line
    if (key in DEFAULTS) v[key] = structuredClone(DEFAULTS[key]);
  }
  const c = v as HubSettings;
  if ((c.adminEmail === undefined) !== (c.adminPassword === undefined))
    errors.push('CITYFLOW_ADMIN_EMAIL and CITYFLOW_ADMIN_PASSWORD: set both or neither');
  // A random secret per process is only sound for the embedded (single-process) database: replicas
  // sharing a PostgreSQL must share the secret, or a token from one is refused by the other.
  if (c.jwtSecret === undefined && /^postgres(ql)?:\/\//.test(c.databaseUrl))
    errors.push('JWT_SECRET: required with a postgres:// DATABASE_URL (every replica must use the same one)');
  if (!failed.has('rerouteClear') && !failed.has('rerouteThreshold') && c.rerouteClear! > c.rerouteThreshold)
    errors.push(
      `CITYFLOW_REROUTE_CLEAR: must not exceed CITYFLOW_REROUTE_THRESHOLD (${c.rerouteThreshold}), got ${c.rerouteClear}`,
    );
  const seedAgents = c.agentsFile && !failed.has('agentsFile') ? readAgentsFile(c.agentsFile, errors) : [];
  const transport = resolveTransport(c, errors);
  if (errors.length)
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `invalid hub configuration (${errors.length} problem${errors.length > 1 ? 's' : ''}):\n  ${errors.join('\n  ')}`,
      errors,
    );
  const { mqttTlsCert, mqttTlsKey, mqttTlsPort, mqttTlsCa, httpsCert, httpsKey, jwtSecret, ...rest } = c;
  return {
    ...rest,
    ...transport,
    jwtSecret: jwtSecret ?? randomBytes(32).toString('base64url'),
    jwtSecretGenerated: jwtSecret === undefined,
    rerouteClear: c.rerouteClear!,
    seedAgents,
  };
}
