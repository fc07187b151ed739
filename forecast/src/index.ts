export type { ForecastPoint, ForecasterOptions, Neighbours, SeriesForecaster } from './types.js';
export { createPersistenceForecaster, PersistenceForecaster } from './models/persistence.js';
export {
  createHistoricalAverageForecaster,
  HistoricalAverageForecaster,
} from './models/historical-average.js';
export { createEwmaLrV2Forecaster, EwmaLrV2Forecaster } from './models/ewma-lr-v2.js';
export { createEdgeForecaster, EdgeForecaster } from './models/edge.js';
export { createNetworkForecaster, NetworkForecaster } from './models/network.js';
export { neighboursFromAdjacency, roadNeighbours, sensorNeighbours } from './neighbours.js';
export { BucketForecaster } from './core/bucket-forecaster.js';
