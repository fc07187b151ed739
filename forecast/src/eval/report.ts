import type { EvalDetail, EvalResult } from './walk-forward.js';

const f2 = (x: number | null) => (x !== null && Number.isFinite(x) ? x.toFixed(2) : '—');

/** The human-readable table: errors per horizon, ratios to the baselines, congestion, coverage. */
export function formatReport(r: EvalResult, d: EvalDetail, source: string): string {
  const names = Object.keys(r.models);
  const horizons = Object.keys(r.models[names[0]!] ?? {});
  const out: string[] = [];
  out.push(
    `${source}: ${r.sensors} sensors, step ${d.stepMin} min, train ${d.trainSteps} steps, test ${d.testSteps} steps, ${r.points} scored forecasts per horizon, neighbours ${d.neighbours}`,
    '',
  );
  const pad = Math.max(...names.map((n) => n.length), 5);
  out.push(
    `| ${'model'.padEnd(pad)} | ${horizons.map((h) => `MAE@${h} | RMSE@${h} | MAPE@${h} | ×pers@${h} | ×HA@${h}`).join(' | ')} |`,
  );
  out.push(`|${'-'.repeat(pad + 2)}|${horizons.map(() => '---|---|---|---|---').join('|')}|`);
  for (const n of names) {
    const cells = horizons.map((h) => {
      const m = r.models[n]![h]!;
      const p = r.models['persistence']?.[h]?.mae;
      const ha = r.models['historical-average']?.[h]?.mae;
      return [
        f2(m.mae),
        f2(m.rmse),
        `${f2(m.mape)}%`,
        p ? f2(m.mae / p) : '—',
        ha ? f2(m.mae / ha) : '—',
      ].join(' | ');
    });
    out.push(`| ${n.padEnd(pad)} | ${cells.join(' | ')} |`);
  }
  out.push(
    '',
    `| ${'model'.padEnd(pad)} | congested@${d.congestionHorizonMin} precision | recall | coverage (nominal 0.8) | ${horizons.map((h) => `cov@${h}`).join(' | ')} |`,
  );
  out.push(`|${'-'.repeat(pad + 2)}|---|---|---|${horizons.map(() => '---').join('|')}|`);
  for (const n of names) {
    const c = r.congestion[n]!;
    out.push(
      `| ${n.padEnd(pad)} | ${f2(c.precision)} | ${f2(c.recall)} | ${f2(r.coverage[n]!.observed)} | ${horizons.map((h) => f2(d.coverageByHorizon[n]![h]!)).join(' | ')} |`,
    );
  }
  const missing = Object.entries(d.missingForecasts).filter(([, v]) => v > 0);
  if (missing.length)
    out.push(
      '',
      `forecasts missing (scored as persistence): ${missing.map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  return out.join('\n');
}
