import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFromEnv, resolveConfig } from '../src/config.js';
import { redactUrl } from '../src/logger.js';

const errorsOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    return (e as { details?: string[] }).details ?? [String(e)];
  }
  return [];
};

function agentsFile(content: string, mode = 0o600): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cityflow-agents-')), 'agents.json');
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

describe('hub configuration', () => {
  it('JWT_SECRET is required with postgres:// (replicas must share it), optional with PGlite', () => {
    const errs = errorsOf(() =>
      resolveConfig({ databaseUrl: 'postgres://u@db/cityflow', networkFile: 'n.geojson' }),
    );
    expect(errs).toEqual([expect.stringMatching(/^JWT_SECRET: required with a postgres:\/\//)]);
    expect(
      resolveConfig({
        databaseUrl: 'postgres://u@db/cityflow',
        networkFile: 'n.geojson',
        jwtSecret: 'shared-secret-0123456789',
      }).jwtSecretGenerated,
    ).toBe(false);
    expect(
      resolveConfig({ databaseUrl: 'pglite://memory', networkFile: 'n.geojson' }).jwtSecretGenerated,
    ).toBe(true);
  });

  it('CITYFLOW_METRICS_MAX_AGENTS defaults to 1000, is read from the environment and validated', () => {
    expect(resolveConfig({ networkFile: 'n.geojson' }).metricsMaxAgents).toBe(1000);
    const env = optionsFromEnv({ CITYFLOW_METRICS_MAX_AGENTS: '25' });
    expect(resolveConfig({ ...env, networkFile: 'n.geojson' }).metricsMaxAgents).toBe(25);
    for (const bad of ['-1', '2.5', 'many'])
      expect(
        errorsOf(() =>
          resolveConfig({ ...optionsFromEnv({ CITYFLOW_METRICS_MAX_AGENTS: bad }), networkFile: 'n' }),
        ),
      ).toEqual([expect.stringMatching(/^CITYFLOW_METRICS_MAX_AGENTS: expected an integer >= 0/)]);
  });

  it('DATABASE_URL selects PostgreSQL or one of the two PGlite builds; anything else is refused', () => {
    for (const url of [
      'pglite://memory',
      'pglite://./data/hub',
      'pglite+timescaledb://memory',
      'pglite+timescaledb:///var/lib/hub',
    ])
      expect(resolveConfig({ databaseUrl: url, networkFile: 'n.geojson' }).databaseUrl).toBe(url);
    for (const url of ['pglite+timescale://memory', 'pglite+timescaledb://', 'timescaledb://x', 'sqlite://x'])
      expect(errorsOf(() => resolveConfig({ databaseUrl: url, networkFile: 'n.geojson' }))).toEqual([
        expect.stringMatching(
          /^DATABASE_URL: expected postgres:\/\/\.\.\., pglite:\/\/<dir>\|memory or pglite\+timescaledb:/,
        ),
      ]);
  });

  it('CITYFLOW_REDIS_PREFIX defaults to cityflow: and is validated', () => {
    expect(resolveConfig({ networkFile: 'n.geojson' }).redisPrefix).toBe('cityflow:');
    expect(resolveConfig({ networkFile: 'n.geojson', redisPrefix: 'city-a:' }).redisPrefix).toBe('city-a:');
    expect(errorsOf(() => resolveConfig({ networkFile: 'n.geojson', redisPrefix: 'a b' }))).toEqual([
      expect.stringMatching(/^CITYFLOW_REDIS_PREFIX/),
    ]);
  });

  it('CITYFLOW_AGENTS_FILE: parsed, and every problem reported (permissions, ids, secrets, duplicates)', () => {
    const good = agentsFile(JSON.stringify([{ agent_id: 'A1', password: 'x'.repeat(32) }]));
    expect(resolveConfig({ networkFile: 'n.geojson', agentsFile: good }).seedAgents).toEqual([
      { agent_id: 'A1', password: 'x'.repeat(32) },
    ]);
    const bad = agentsFile(
      JSON.stringify([
        { agent_id: 'A1', password: 'x'.repeat(32) },
        { agent_id: 'A1', password: 'y'.repeat(32) },
        { agent_id: 'bad id', password: 'short' },
        { agent_id: 'A3', password: 'z'.repeat(32), role: 'admin' },
        42,
      ]),
      0o644,
    );
    const errs = errorsOf(() => resolveConfig({ networkFile: 'n.geojson', agentsFile: bad }));
    const text = errs.join('\n');
    expect(text).toMatch(/readable or writable by others \(mode 644\)/);
    expect(text).toMatch(/\[1\]\.agent_id: A1 is listed twice/);
    expect(text).toMatch(/\[2\]\.agent_id: expected an id/);
    expect(text).toMatch(/\[2\]\.password: expected a string of 16\.\.256/);
    expect(text).toMatch(/\[3\]\.role: unknown member/);
    expect(text).toMatch(/\[4\]: expected an object/);
    expect(text).not.toContain('x'.repeat(32)); // secrets never appear in errors
    expect(errorsOf(() => resolveConfig({ networkFile: 'n.geojson', agentsFile: agentsFile('{') }))).toEqual([
      expect.stringMatching(/not JSON/),
    ]);
    expect(
      errorsOf(() => resolveConfig({ networkFile: 'n.geojson', agentsFile: '/nonexistent/agents.json' })),
    ).toEqual([expect.stringMatching(/cannot read/)]);
  });

  it('redactUrl strips the password of a URL and tokens of a query', () => {
    expect(redactUrl('mqtt://hub:s3cret@broker:1883')).toBe('mqtt://hub:[REDACTED]@broker:1883');
    expect(redactUrl('mqtt://hub:p@ss@broker:1883')).toBe('mqtt://hub:[REDACTED]@broker:1883');
    expect(redactUrl('redis://:pw@redis:6379/0')).toBe('redis://:[REDACTED]@redis:6379/0');
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883');
    expect(redactUrl('/ws/live?token=abc&x=1')).toBe('/ws/live?token=[REDACTED]&x=1');
  });
});
