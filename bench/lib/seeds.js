/** What the SUMO benches over seeds share: their flags and the summary of one figure over the seeds. */

/** The value after `name` on the command line, else `dflt`. */
export function flag(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/** `--seeds 1,2,3` (default 1,2,3); exits 2 with the rule when a seed is not a positive integer. */
export function seedsFlag() {
  const seeds = flag('--seeds', '1,2,3').split(',').map(Number);
  if (!seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 1)) {
    console.error('--seeds: a comma-separated list of positive integers, e.g. 1,2,3');
    process.exit(2);
  }
  return seeds;
}

export const round = (x) => Math.round(x * 1000) / 1000;

/** Mean, min and max of one figure over the seeds. */
export const stats = (xs) => ({
  mean: round(xs.reduce((a, b) => a + b, 0) / xs.length),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
});
