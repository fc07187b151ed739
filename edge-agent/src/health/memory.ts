/**
 * Where the memory is: RSS and V8's view of it (heap, external = native buffers held by JS objects).
 * RSS − heap_total − external ≈ loaded code, SQLite's page cache and malloc arenas.
 * With `--expose-gc` (benchmarks) `gc: true` collects first, so the figures are after a full GC.
 */
export function memoryFields(gc = false): Record<string, number> {
  const g = (globalThis as { gc?: () => void }).gc;
  if (gc && g) g();
  const m = process.memoryUsage();
  return {
    rss_bytes: m.rss,
    heap_total_bytes: m.heapTotal,
    heap_used_bytes: m.heapUsed,
    external_bytes: m.external,
    array_buffers_bytes: m.arrayBuffers,
  };
}
