/** Retention of per-minute data, predictions, reroutes and dead letters (days). */
export const RETENTION_DAYS = {
  traffic_minute: 90,
  predictions: 30,
  reroutes: 30,
  incidents: 30,
  quarantine: 14,
} as const;
export const COMPRESS_AFTER_DAYS = 7;
