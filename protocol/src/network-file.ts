import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CityFlowError } from './errors.js';
import { type Network, loadNetwork } from './network.js';

/** The default city (9 signalised intersections of central Paris); see protocol/scripts/generate-network.mjs. */
export const DEFAULT_NETWORK_FILE = fileURLToPath(
  new URL('../networks/paris-district.geojson', import.meta.url),
);

/** Reads and validates a network file; throws CF_INVALID_NETWORK listing every problem. */
export function loadNetworkFile(path: string = DEFAULT_NETWORK_FILE): Network {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CityFlowError(
      'CF_INVALID_NETWORK',
      `cannot read network file ${path}: ${(e as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CityFlowError(
      'CF_INVALID_NETWORK',
      `network file ${path} is not JSON: ${(e as Error).message}`,
    );
  }
  const r = loadNetwork(json);
  if (!r.ok)
    throw new CityFlowError(
      'CF_INVALID_NETWORK',
      `network file ${path} is invalid (${r.errors.length} problems):\n  ${r.errors.slice(0, 50).join('\n  ')}`,
      r.errors,
    );
  return r.value;
}
