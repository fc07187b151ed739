/**
 * CO2 emission factor of an average passenger car, g/km, as a function of mean speed (km/h):
 *
 *   EF(v) = 140 + 1800 / max(v, 5) + 0.004 · v²
 *
 * A U-shaped curve in the spirit of COPERT's speed-dependent factors: stop-and-go traffic costs most
 * (≈ 320 g/km at 10 km/h, ≈ 500 at 5), the minimum sits around 60–70 km/h (≈ 185 g/km), and it rises
 * again with aerodynamic drag (≈ 213 g/km at 120). Good to ±15 % of COPERT's Euro-5 petrol car in 10–120 km/h.
 */
export function co2GramsPerKm(speedKmh: number): number {
  const v = Math.max(5, speedKmh);
  return 140 + 1800 / v + 0.004 * v * v;
}

/** Grams of CO2 for one vehicle over `lengthM` metres at `speedKmh`. */
export function co2Grams(lengthM: number, speedKmh: number): number {
  return (lengthM / 1000) * co2GramsPerKm(speedKmh);
}
