/**
 * The one rule for a road's speed over several loops or minutes of `traffic_minute`: each minute's
 * mean speed is weighted by the vehicles that had a speed (`count - null_speed_count`). Vehicles
 * counted without a speed (a loop that counts but cannot time them) carry no weight, and a minute with
 * no speed at all (`speed_mean` NULL) is left out of both sums, so it neither drags the mean to zero
 * nor dilutes it. `samples` elsewhere still counts every vehicle.
 *
 * The fragments are SQL over `traffic_minute` columns, for use inside an aggregate query. The hourly
 * continuous aggregate (db/timescale.ts) stores the two sums, so hours can be combined by the same rule.
 */
const HAS_SPEED = 'FILTER (WHERE speed_mean IS NOT NULL)';

/** Σ speed × vehicles with a speed, over the group's minutes that have a speed. */
export const SPEED_WEIGHTED_SUM = `sum(speed_mean * (count - null_speed_count)) ${HAS_SPEED}`;

/** Σ vehicles with a speed, over the same minutes: the weight of `SPEED_WEIGHTED_SUM`. */
export const SPEED_SAMPLES = `sum(count - null_speed_count) ${HAS_SPEED}`;

/** The weighted mean of two sums built as above (NULL when no vehicle had a speed). */
export function weightedSpeed(weightedSum: string, samples: string): string {
  return `${weightedSum} / nullif(${samples}, 0)`;
}

/** A group's weighted mean speed straight from `traffic_minute` rows. */
export const WEIGHTED_SPEED = weightedSpeed(SPEED_WEIGHTED_SUM, SPEED_SAMPLES);
