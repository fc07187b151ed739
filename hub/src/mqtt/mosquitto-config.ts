import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoHash } from '../auth/passwords.js';
import type { Queryable } from '../db/db.js';
import { allCredentials } from '../store/agents.js';
import { HUB_USERNAME, mosquittoAcl } from './acl.js';

/**
 * Writes `passwd` (Mosquitto's `$6$` salted SHA-512 form, stored at credential creation, so no secret
 * is needed here) and `acl` (the embedded broker's rules) into `dir`. Point Mosquitto at them with
 * `password_file` and `acl_file`, and the hubs at `MQTT_URL=mqtt://cityflow-hub:<hub password>@host:port`.
 */
export async function writeMosquittoConfig(
  db: Queryable,
  dir: string,
  hubPassword: string,
): Promise<{ agents: number }> {
  const creds = await allCredentials(db);
  mkdirSync(dir, { recursive: true });
  const lines = [
    `${HUB_USERNAME}:${mosquittoHash(hubPassword)}`,
    ...creds.map((c) => `${c.username}:${c.mosquitto_hash}`),
  ];
  writeFileSync(join(dir, 'passwd'), `${lines.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'acl'), mosquittoAcl(), { mode: 0o644 });
  return { agents: creds.length };
}
