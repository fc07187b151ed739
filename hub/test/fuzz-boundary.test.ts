/**
 * Property-based tests of the hub's own trust boundaries (issue 9, "Fuzzing"): WebSocket frames from
 * clients (the decoder, and a real socket that must answer every bad frame and stay open), and the
 * hub's configuration (environment + the CITYFLOW_AGENTS_FILE it reads). The uplink decoders the
 * hub's ingest runs are fuzzed in protocol/test/fuzz-decoders.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CityFlowError, isValidId } from '@cityflow/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { FUZZ_RUNS, decoderInput, hostileValue } from '../../test-support/fuzz.js';
import { WS_MAX_FRAME_BYTES, decodeClientFrame } from '../src/api/ws-frames.js';
import { optionsFromEnv, resolveConfig } from '../src/config.js';
import type { RunningHub } from '../src/hub.js';
import { openLive, testHub, writeNetwork } from './helpers.js';

const frameInput = fc.oneof(
  decoderInput({ type: 'subscribe', roads: ['R00-10', 'R10-00'] }).map((v) => JSON.stringify(v) ?? ''),
  decoderInput({ type: 'ping' }).map((v) => JSON.stringify(v) ?? ''),
  fc.string({ unit: 'binary', maxLength: 512 }),
);

describe('fuzz: hub boundaries', () => {
  it('WebSocket frame decoder: never throws; accepted frames are a ping or a subscription of valid road ids', () => {
    fc.assert(
      fc.property(frameInput, (text) => {
        const d = decodeClientFrame(text);
        if (!d.ok) return void expect(d.message.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(WS_MAX_FRAME_BYTES);
        if (d.frame.type === 'subscribe' && d.frame.roads !== 'all')
          expect(d.frame.roads.every((r) => isValidId(r))).toBe(true);
        else expect(['ping', 'subscribe']).toContain(d.frame.type);
      }),
      { numRuns: FUZZ_RUNS * 3 },
    );
  });

  it('hub configuration (environment and agents file): only CityFlowError CF_INVALID_CONFIG, listing problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cityflow-fuzz-env-'));
    const networkFile = writeNetwork();
    const names = [
      'DATABASE_URL',
      'REDIS_URL',
      'MQTT_URL',
      'MQTT_PORT',
      'PORT',
      'JWT_SECRET',
      'CITYFLOW_CLOCK',
      'CITYFLOW_OPEN_REGISTRATION',
      'CITYFLOW_ADMIN_EMAIL',
      'CITYFLOW_ADMIN_PASSWORD',
      'CITYFLOW_CYCLE_INTERVAL_S',
      'CITYFLOW_LOGIN_RATE_LIMIT',
      'CITYFLOW_LOGIN_PASSWORD_RATE_LIMIT',
      'CITYFLOW_REGISTER_RATE_LIMIT',
      'CITYFLOW_DIAG_RATE_LIMIT',
      'CITYFLOW_REVOCATION_POLL_S',
      'CITYFLOW_TRUST_PROXY',
      'CITYFLOW_REDIS_PREFIX',
      'CITYFLOW_CORS_ORIGINS',
    ];
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      hostileValue.map((v) => String(v)),
      fc.constantFrom('0', '-1', '1e309', 'NaN', 'true', 'postgres://x', 'pglite://memory', 'data'),
    );
    const agentsSample = [{ agent_id: 'A1', password: 'p'.repeat(20) }];
    let n = 0;
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 6 }),
        fc.option(
          fc.oneof(
            decoderInput(agentsSample).map((v) => JSON.stringify(v) ?? ''),
            fc.string(),
          ),
        ),
        (env, agentsText) => {
          const full: Record<string, string> = { NETWORK_FILE: networkFile, ...env };
          if (agentsText !== null) {
            const file = join(dir, `agents${n++}.json`);
            writeFileSync(file, agentsText, { mode: 0o600 });
            full.CITYFLOW_AGENTS_FILE = file;
          }
          try {
            const cfg = resolveConfig(optionsFromEnv(full));
            expect(cfg.loginRateLimit).toBeGreaterThan(0);
            expect(Number.isInteger(cfg.port) && cfg.port >= 0 && cfg.port <= 65535).toBe(true);
            for (const a of cfg.seedAgents) expect(isValidId(a.agent_id)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(CityFlowError);
            expect((e as CityFlowError).code).toBe('CF_INVALID_CONFIG');
            expect((e as CityFlowError).details.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe('fuzz: a real /ws/live socket under random frames', () => {
  let hub: RunningHub;
  let ws: WebSocket;
  beforeAll(async () => {
    hub = await testHub();
    const token = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'fuzz@city.test', password: 'password123' },
      })
    ).json().token;
    ws = (await openLive(hub.apiUrl, token)).ws;
  });
  afterAll(async () => {
    ws?.close();
    await hub?.stop();
  });

  it('answers every frame (error, pong or subscribed) and stays open', async () => {
    const replies: string[] = [];
    ws.on('message', (m) => {
      const v = JSON.parse(m.toString());
      if (v.type !== 'traffic') replies.push(v.type);
    });
    await fc.assert(
      fc.asyncProperty(frameInput, async (text) => {
        const before = replies.length;
        ws.send(text);
        const end = Date.now() + 10_000;
        while (replies.length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
        expect(replies.length).toBe(before + 1);
        expect(['error', 'pong', 'subscribed']).toContain(replies[replies.length - 1]);
        expect(ws.readyState).toBe(ws.OPEN);
      }),
      { numRuns: Math.ceil(FUZZ_RUNS / 3) },
    );
  }, 60_000);
});
