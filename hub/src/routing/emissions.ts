/**
 * CO2 of a passenger car, from HBEFA 3.1 (Handbook Emission Factors for Road Transport), class
 * PC_G_EU4 (petrol car, Euro 4) — SUMO's default emission class, so the platform's estimate and SUMO's
 * measurement in the closed-loop evaluation use one model. The table is HBEFA3/PC_G_EU4 as SUMO 1.15
 * implements it, on flat road at constant speed, regenerated with:
 *
 *   emissionsMap -e HBEFA3/PC_G_EU4 --v-min 0 --v-max 20 --v-step 1 --a-min 0 --a-max 0 -o map.txt
 *
 * CO2 in mg/s at v = 0, 1, 2, … 20 m/s (a = 0). At 50 km/h this is 168 g/km; at idle 2.62 g/s.
 */
export const HBEFA3_PC_G_EU4_CO2_MG_PER_S = [
  2625, 2503, 2397, 2306, 2231, 2172, 2129, 2101, 2089, 2093, 2112, 2147, 2198, 2265, 2347, 2445, 2558, 2688,
  2833, 2993, 3170,
] as const;

/** CO2 rate at a steady speed, g/s (linear between the table's 1 m/s points, flat beyond 20 m/s). */
export function co2GramsPerSecond(speedKmh: number): number {
  const t = HBEFA3_PC_G_EU4_CO2_MG_PER_S;
  const v = Math.min(t.length - 1, Math.max(0, speedKmh / 3.6));
  const i = Math.floor(v);
  const f = v - i;
  const lo = t[i]!;
  const hi = t[Math.min(t.length - 1, i + 1)]!;
  return (lo + (hi - lo) * f) / 1000;
}

/** Idle rate, g/s: what a vehicle emits for every second of queue or signal delay. */
export const IDLE_CO2_G_PER_S = HBEFA3_PC_G_EU4_CO2_MG_PER_S[0] / 1000;

/** Emission factor at a steady speed, g/km. */
export function co2GramsPerKm(speedKmh: number): number {
  const v = Math.max(1, speedKmh);
  return (co2GramsPerSecond(v) * 3600) / v;
}

/**
 * Grams of CO2 for one vehicle over a road: running at `runSpeedKmh` for its length, then idling for
 * `delayS` (queue and signal delay). Splitting running and idling, as delay-based signal models do,
 * keeps stop-and-go from being priced as a slow cruise.
 */
export function roadCo2Grams(lengthM: number, runSpeedKmh: number, delayS: number): number {
  const runS = lengthM / (Math.max(1, runSpeedKmh) / 3.6);
  return runS * co2GramsPerSecond(runSpeedKmh) + Math.max(0, delayS) * IDLE_CO2_G_PER_S;
}
