import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { openDb } from '../src/storage/sqlite.js';
import { applyRunTuning, DEFAULT_V8_FLAGS } from '../src/tune.js';
import { tempDir, useCleanups } from './helpers/util.js';

describe('memory sized for a Pi', () => {
  const cleanups = useCleanups();

  it('opens SQLite with a 2 MB page cache (configurable), no mmap, temp storage on disk', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const db = openDb(tmp.dir);
    expect(db.pragma('cache_size', { simple: true })).toBe(-2048);
    expect(db.pragma('mmap_size', { simple: true })).toBe(0);
    expect(db.pragma('temp_store', { simple: true })).toBe(1);
    db.close();
    const big = openDb(tmp.dir, { cacheKb: 16_000 });
    expect(big.pragma('cache_size', { simple: true })).toBe(-16_000);
    big.close();
  });

  it('run tuning: default V8 flags, replaced by CITYFLOW_AGENT_V8_FLAGS, off with CITYFLOW_AGENT_TUNE=0', () => {
    expect(applyRunTuning({ CITYFLOW_AGENT_TUNE: '0' })).toBe('');
    expect(applyRunTuning({ CITYFLOW_AGENT_V8_FLAGS: '' })).toBe('');
    expect(applyRunTuning({})).toBe(DEFAULT_V8_FLAGS);
  });

  it("switches off mqtt-packet's 65,536-Buffer packet-id cache in the copy aedes uses; status reports memory", async () => {
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'M-1', dataDir: tmp.dir, logLevel: 'error' });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const req = createRequire(createRequire(import.meta.url).resolve('aedes'));
    expect(req('mqtt-packet').writeToStream.cacheNumbers).toBe(false);
    const s = agent.status();
    for (const k of ['rss_bytes', 'heap_used_bytes', 'heap_total_bytes', 'external_bytes']) {
      expect(s[k]).toBeGreaterThan(0);
    }
  });
});
