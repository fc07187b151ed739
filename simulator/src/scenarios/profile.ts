/**
 * Time-of-day demand: the share of a road's capacity that wants to use it (volume/capacity ratio
 * before the per-road weight). Two rush hours shaped like loop-detector counts in European cities:
 * a sharp morning peak around 08:15, a wider evening peak around 17:45, a midday plateau and quiet nights.
 */
const gauss = (h: number, centre: number, width: number) => Math.exp(-0.5 * ((h - centre) / width) ** 2);

/** Demand ratio for an hour of day in [0, 24). */
export function demandAt(hourOfDay: number): number {
  const h = ((hourOfDay % 24) + 24) % 24;
  const night = 0.04;
  const day = 0.42 * (1 / (1 + Math.exp(-(h - 6.5) * 2))) * (1 / (1 + Math.exp((h - 21.5) * 1.5)));
  const morning = 0.55 * gauss(h, 8.25, 0.8);
  const evening = 0.5 * gauss(h, 17.75, 1.1);
  return night + day + morning + evening;
}

/** Hour of day (fractional) of a time, in the network's local time (`utcOffsetH` from UTC). */
export function hourOfDay(ms: number, utcOffsetH = 0): number {
  const d = new Date(ms + utcOffsetH * 3_600_000);
  return d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600;
}
