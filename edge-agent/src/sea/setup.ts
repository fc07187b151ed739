/**
 * First module of the single executable (see main.ts): the Pi memory tuning of `run`, as the npm
 * launcher bin/cityflow-agent.js applies it (and mqtt-packet's number cache off, as local-broker.ts
 * does), and the SQLite addon loaded from the executable's own asset, handed to better-sqlite3
 * before any command opens a database.
 */
import { getRawAsset, isSea } from 'node:sea';
import * as mqttPacket from 'mqtt-packet';
import { disableMqttPacketNumberCache, type MqttPacketModule } from '../broker/local-broker.js';
import { useNativeBinding } from '../storage/sqlite.js';
import { applyRunTuning } from '../tune.js';
import { dlopenAddon, materializeAddon } from './addon-file.js';

/** The asset key the packaging script (deploy/edge/scripts) stores the addon under. */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node';

if (process.argv[2] === 'run') applyRunTuning();
if (isSea()) {
  // local-broker.ts finds aedes' mqtt-packet through node_modules, which the executable has not;
  // the bundle holds one copy, shared by aedes and mqtt.js.
  disableMqttPacketNumberCache(mqttPacket as unknown as MqttPacketModule);
  const bytes = new Uint8Array(getRawAsset(SQLITE_ADDON_ASSET) as ArrayBuffer);
  useNativeBinding(dlopenAddon(materializeAddon(SQLITE_ADDON_ASSET, bytes)));
}
