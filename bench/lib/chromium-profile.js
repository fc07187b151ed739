/**
 * Where a headless Chromium's time goes, for the browser benches: CPU per Chromium process type from
 * Linux /proc, and the heaviest functions of a V8 CPU profile.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds used so far by each kind of Chromium process below `rootPid` (this bench; Linux /proc):
 * where the time goes between the page (renderer: JavaScript, layout), the GPU process (here
 * SwiftShader, which rasterises the WebGL canvas on the CPU) and the browser process (compositing).
 */
export function cpuByProcessType(rootPid) {
  const procs = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.push({ pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cmd });
    } catch {
      // the process ended meanwhile
    }
  }
  const under = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs)
      if (!under.has(p.pid) && under.has(p.ppid)) {
        under.add(p.pid);
        grew = true;
      }
  }
  const out = {};
  for (const p of procs) {
    if (!under.has(p.pid) || p.pid === rootPid) continue;
    const type = /--type=([\w-]+)/.exec(p.cmd)?.[1] ?? (/chrom/.test(p.cmd) ? 'browser' : null);
    if (!type) continue;
    out[type] = (out[type] ?? 0) + p.ticks / 100;
  }
  return out;
}

/** Self time per function of a V8 CPU profile, the heaviest first. */
export function topFunctions(profile, n = 12) {
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++)
    dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byFn = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const key =
      `${functionName || '(anonymous)'} ${url ? `${url.split('/').pop()}:${lineNumber + 1}` : ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  return [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), share: +(us / total).toFixed(3) }));
}
