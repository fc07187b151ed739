export {
  type EnvOptions,
  type HubConfig,
  type HubInput,
  type HubOptions,
  optionsFromEnv,
  resolveConfig,
} from './config.js';
export { type RunningHub, startHub } from './hub.js';
export { type Db, openDb } from './db/db.js';
export { migrate, MIGRATIONS } from './db/migrations.js';
export { timescaleStatements } from './db/storage-policy.js';
export { mosquittoAcl } from './mqtt/acl.js';
export { co2GramsPerKm, roadCo2Grams } from './routing/emissions.js';
