import { createEdgeForecaster } from '../models/edge.js';
import { createEwmaLrV2Forecaster } from '../models/ewma-lr-v2.js';
import { createHistoricalAverageForecaster } from '../models/historical-average.js';
import { createNetworkForecaster } from '../models/network.js';
import { createPersistenceForecaster } from '../models/persistence.js';
import type { ForecasterOptions, Neighbours, SeriesForecaster } from '../types.js';

export const MODEL_NAMES = [
  'persistence',
  'historical-average',
  'ewma-lr-v2',
  'cityflow-edge',
  'cityflow-network',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The evaluated models, built fresh for one run. */
export function buildModels(
  names: readonly ModelName[],
  opts: ForecasterOptions,
  neighbours: Neighbours,
): Array<{ name: string; model: SeriesForecaster }> {
  const make: Record<ModelName, () => SeriesForecaster> = {
    persistence: () => createPersistenceForecaster(opts),
    'historical-average': () => createHistoricalAverageForecaster(opts),
    'ewma-lr-v2': () => createEwmaLrV2Forecaster(opts),
    'cityflow-edge': () => createEdgeForecaster(opts),
    'cityflow-network': () => createNetworkForecaster(neighbours, opts),
  };
  return names.map((name) => ({ name, model: make[name]() }));
}
