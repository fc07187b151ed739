import { describe, expect, it } from 'vitest';
import { RETENTION_DAYS, retentionStatements, timescaleStatements } from '../src/db/storage-policy.js';

describe('TimescaleDB SQL (emitted when the extension is detected)', () => {
  const sql = timescaleStatements();
  it('turns the per-minute table into a hypertable, migrating existing rows', () => {
    expect(sql[0]).toMatch(
      /create_hypertable\('traffic_minute', 'minute'.*migrate_data => true.*if_not_exists => true/,
    );
  });
  it('compresses by road and sensor with a policy, and retains 90 days', () => {
    expect(sql[1]).toMatch(/timescaledb\.compress_segmentby = 'road_id, sensor_id'/);
    expect(sql[2]).toMatch(/add_compression_policy\('traffic_minute', INTERVAL '7 days'/);
    expect(sql[3]).toContain(
      `add_retention_policy('traffic_minute', INTERVAL '${RETENTION_DAYS.traffic_minute} days'`,
    );
  });
  it('keeps an hourly continuous aggregate with the sums needed for count-weighted speeds', () => {
    expect(sql[4]).toMatch(
      /CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_hourly WITH \(timescaledb\.continuous, timescaledb\.materialized_only = false\)/,
    );
    expect(sql[4]).toMatch(/time_bucket\(INTERVAL '1 hour', minute\)/);
    expect(sql[4]).toMatch(/speed_weighted_sum/);
    expect(sql[5]).toMatch(/add_continuous_aggregate_policy\('traffic_hourly'/);
  });
  it('plain PostgreSQL: retention counts from the newest row not in the future (data), from now() (wall)', () => {
    expect(retentionStatements('data')[0]).toContain(
      "minute < (SELECT max(minute) FROM traffic_minute WHERE minute <= now() + INTERVAL '1 day') - INTERVAL '90 days'",
    );
    expect(retentionStatements('wall')[0]).toContain("minute < now() - INTERVAL '90 days'");
  });
  it('a hypertable loses whole chunks, never a DELETE on traffic_minute (that would decompress them)', () => {
    for (const mode of ['wall', 'data'] as const)
      expect(retentionStatements(mode, true).some((s) => s.includes('traffic_minute'))).toBe(false);
  });
});
