import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CityFlowError } from '@cityflow/protocol';

/**
 * `<data-dir>/demo.json`, written by `cityflow-sim demo` once the city is up (DESIGN.md, Commands):
 * how outside tools find the API, the demo user and each agent's sensor broker.
 */
export interface DemoAgent {
  agent_id: string;
  mqtt_url: string;
  http_url: string;
  data_dir: string;
}
export interface DemoFile {
  api_url: string;
  hub_mqtt_url: string;
  demo_user: { email: string; password: string };
  agents: DemoAgent[];
  /** the simulator's control endpoint (`cityflow-sim incident ...`); absent with --no-sim */
  control?: { url: string; token: string };
}

/** Checks a parsed demo.json and reports every problem as `path: message`. */
export function checkDemoFile(v: unknown): string[] {
  const errors: string[] = [];
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  const str = (o: Record<string, unknown>, key: string, path: string) => {
    if (typeof o[key] !== 'string' || o[key] === '') errors.push(`${path}${key}: must be a non-empty string`);
  };
  if (!isObj(v)) return ['(root): must be an object'];
  str(v, 'api_url', '');
  str(v, 'hub_mqtt_url', '');
  if (!isObj(v.demo_user)) errors.push('demo_user: must be an object');
  else for (const k of ['email', 'password']) str(v.demo_user, k, 'demo_user.');
  if (!Array.isArray(v.agents)) errors.push('agents: must be an array');
  else
    v.agents.forEach((a, i) => {
      if (!isObj(a)) errors.push(`agents.${i}: must be an object`);
      else for (const k of ['agent_id', 'mqtt_url', 'http_url', 'data_dir']) str(a, k, `agents.${i}.`);
    });
  if (v.control !== undefined) {
    if (!isObj(v.control)) errors.push('control: must be an object');
    else for (const k of ['url', 'token']) str(v.control, k, 'control.');
  }
  return errors;
}

export function readDemoFile(path: string): DemoFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CityFlowError('CF_INVALID_CONFIG', `cannot read ${path}: ${(e as Error).message}`);
  }
  const errors = checkDemoFile(value);
  if (errors.length)
    throw new CityFlowError('CF_INVALID_CONFIG', `${path} is invalid: ${errors.join('; ')}`, errors);
  return value as DemoFile;
}

/** Atomic write (tmp + rename): a reader polling for the file never sees half of it. */
export function writeDemoFile(path: string, demo: DemoFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
