import { readFileSync, statSync } from 'node:fs';
import { ID_PATTERN, isValidId } from '@cityflow/protocol';

export interface SeedAgent {
  agent_id: string;
  password: string;
}

/**
 * Reads CITYFLOW_AGENTS_FILE: a JSON array `[{"agent_id":"...","password":"..."}]` readable only by its
 * owner (it holds secrets). Every problem is appended to `errors` (config errors are reported at once).
 */
export function readAgentsFile(file: string, errors: string[]): SeedAgent[] {
  const name = `CITYFLOW_AGENTS_FILE (${file})`;
  let text: string;
  try {
    const st = statSync(file);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0)
      errors.push(
        `${name}: readable or writable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    text = readFileSync(file, 'utf8');
  } catch (e) {
    errors.push(`${name}: cannot read: ${(e as Error).message}`);
    return [];
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    errors.push(`${name}: not JSON: ${(e as Error).message}`);
    return [];
  }
  if (!Array.isArray(v)) {
    errors.push(`${name}: expected an array of {"agent_id","password"}`);
    return [];
  }
  const out: SeedAgent[] = [];
  const seen = new Set<string>();
  v.forEach((item, i) => {
    const at = `${name}: [${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`${at}: expected an object {"agent_id","password"}`);
      return;
    }
    const { agent_id, password, ...rest } = item as Record<string, unknown>;
    let ok = true;
    if (typeof agent_id !== 'string' || !isValidId(agent_id)) {
      errors.push(`${at}.agent_id: expected an id (${ID_PATTERN}), got ${JSON.stringify(agent_id)}`);
      ok = false;
    } else if (seen.has(agent_id)) {
      errors.push(`${at}.agent_id: ${agent_id} is listed twice`);
      ok = false;
    }
    if (typeof password !== 'string' || password.length < 16 || password.length > 256) {
      errors.push(`${at}.password: expected a string of 16..256 characters`);
      ok = false;
    }
    for (const k of Object.keys(rest)) errors.push(`${at}.${k}: unknown member`);
    if (ok && Object.keys(rest).length === 0) {
      seen.add(agent_id as string);
      out.push({ agent_id: agent_id as string, password: password as string });
    }
  });
  return out;
}
