/** A closed range of seqs [from, to]. */
export interface SeqRange {
  from: number;
  to: number;
}

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(ranges: SeqRange[]): SeqRange[] {
  const sorted = ranges.filter((r) => r.to >= r.from).sort((a, b) => a.from - b.from);
  const out: SeqRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** Turns a list of seqs into ranges. */
export function rangesOf(seqs: number[]): SeqRange[] {
  return mergeRanges(seqs.map((s) => ({ from: s, to: s })));
}

export function inRanges(seq: number, ranges: SeqRange[]): boolean {
  return ranges.some((r) => seq >= r.from && seq <= r.to);
}

/**
 * Advances a contiguous watermark: `pending` holds resolved ranges above it (arrivals out of order,
 * e.g. seq 10 committed by one replica before seq 9 by another); the watermark only passes a seq once
 * every seq up to it is resolved. Returns the new watermark and what stays pending above it.
 */
export function advanceWatermark(
  watermark: number,
  pending: SeqRange[],
  resolved: SeqRange[],
): { watermark: number; pending: SeqRange[] } {
  let wm = watermark;
  const rest: SeqRange[] = [];
  for (const r of mergeRanges([...pending, ...resolved])) {
    if (r.to <= wm) continue;
    if (r.from <= wm + 1) wm = r.to;
    else rest.push({ from: Math.max(r.from, wm + 1), to: r.to });
  }
  return { watermark: wm, pending: rest.filter((r) => r.to > wm) };
}
