import { createEdgeForecaster } from '@cityflow/forecast';
import { LiveWindow } from './aggregate/live-window.js';
import { Summarizer } from './aggregate/summarizer.js';
import type { AgentClock } from './clock.js';
import type { AgentConfig } from './config.js';
import { SliceState } from './downlink/slice.js';
import type { Alarms } from './health/alarms.js';
import type { Metrics } from './health/metrics.js';
import { Ingest } from './ingest/ingest.js';
import type { Logger } from './logger.js';
import { LocalForecaster } from './predict/local-forecaster.js';
import { isCorruptError } from './storage/db-check.js';
import { DiskFullGuard } from './storage/disk-full.js';
import type { MetaStore } from './storage/meta-store.js';
import { MinuteAccStore } from './storage/minute-acc-store.js';
import { capsOf, freeForDiskFull } from './storage/outbox-policy.js';
import type { OutboxStore } from './storage/outbox-store.js';
import type { ReadingsStore } from './storage/readings-store.js';
import type { Db } from './storage/sqlite.js';

/** The agent's local data path: checks and group commit, minute summaries, live window, forecasts. */
export interface Pipeline {
  diskFull: DiskFullGuard;
  slice: SliceState;
  live: LiveWindow;
  forecaster: LocalForecaster;
  summarizer: Summarizer;
  ingest: Ingest;
}

export interface PipelineEnv {
  db: Db;
  cfg: AgentConfig;
  meta: MetaStore;
  readings: ReadingsStore;
  outbox: OutboxStore;
  clock: AgentClock;
  alarms: Alarms;
  metrics: Metrics;
  log: Logger;
}

/** What the rest of the agent does when the data path moves. */
export interface PipelineHooks {
  /** minute summaries went into the outbox (the uplink may send them now) */
  summarized(): void;
  /** readings are durable (the sensors have their PUBACKs), counted and in the live window */
  committed(): void;
  /** a write met SQLITE_CORRUPT */
  corrupt(e: unknown): void;
}

/**
 * Wires the data path on the opened database, in dependency order: the disk-full guard first (it
 * keeps its reserve file, and every write below reports to it), then the slice, live window,
 * forecaster, summarizer and the ingest that feeds them.
 */
export function buildPipeline(env: PipelineEnv, hooks: PipelineHooks): Pipeline {
  const { db, cfg, meta, readings, outbox, clock, metrics, log } = env;
  const diskFull = new DiskFullGuard(
    cfg.dataDir,
    env.alarms,
    () => freeForDiskFull(db, outbox, readings, meta, capsOf(cfg), Date.now(), clock.now()),
    (full) => metrics.diskFull.set(full ? 1 : 0),
    log.child({ mod: 'disk' }),
  );
  diskFull.start();
  const slice = new SliceState(meta);
  const live = new LiveWindow((road) => slice.speedLimit(road));
  const forecaster = new LocalForecaster(createEdgeForecaster(), (road) => live.freeFlow(road));
  const acc = new MinuteAccStore(db);
  const summarizer = new Summarizer(
    acc,
    outbox,
    meta,
    clock,
    cfg.summaryGraceS,
    (aggs) => {
      metrics.summaries.inc(aggs.length);
      forecaster.observe(aggs);
      hooks.summarized();
    },
    log.child({ mod: 'summary' }),
  );
  const ingest = new Ingest(
    readings,
    acc,
    meta,
    slice,
    clock,
    cfg,
    metrics,
    () => summarizer.closedBefore(),
    (rs) => {
      if (rs.length === 0) return;
      metrics.readings.inc(rs.length);
      let max = 0;
      for (const r of rs) if (r.tsMs > max) max = r.tsMs;
      clock.observeData(max);
      live.add(rs);
      hooks.committed();
    },
    log.child({ mod: 'commit' }),
    {
      onFailed: (e, n) => {
        if (isCorruptError(e)) hooks.corrupt(e);
        const handled = diskFull.onWriteError(e, n);
        if (handled) metrics.diskFullRejected.inc(n);
        return handled;
      },
      onCommitted: () => diskFull.check(),
    },
  );
  return { diskFull, slice, live, forecaster, summarizer, ingest };
}
