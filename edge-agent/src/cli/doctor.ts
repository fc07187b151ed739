import { statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Command } from 'commander';
import { portArg } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { PLAUSIBLE_EPOCH_MS } from '../clock.js';
import { DEFAULTS, readConfigFile } from '../config.js';
import { integrityCheck } from '../storage/sqlite.js';
import { openStores, print } from './common.js';
import { redactUrl } from '../redact.js';
import { fetchStatus } from './status.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const MIN_FREE_BYTES = 512 * 1024 * 1024;

function diskCheck(dir: string): Check {
  try {
    const s = statfsSync(dir);
    const free = s.bavail * s.bsize;
    const ok = free >= MIN_FREE_BYTES;
    return {
      name: 'disk',
      ok,
      detail: `${Math.round(free / 1048576)} MiB free in ${dir}`,
      fix: ok ? undefined : 'free space or lower rawRetentionH / dbMaxBytes',
    };
  } catch (e) {
    return {
      name: 'disk',
      ok: false,
      detail: (e as Error).message,
      fix: 'check --data-dir exists and is writable',
    };
  }
}

function clockCheck(status: Record<string, unknown> | null): Check {
  const now = Date.now();
  if (now < PLAUSIBLE_EPOCH_MS)
    return {
      name: 'clock',
      ok: false,
      detail: `system time ${new Date(now).toISOString()} is before 2025`,
      fix: 'enable NTP (timedatectl set-ntp true) or fit an RTC',
    };
  const skew = (status?.clock as { skew_s?: number | null } | null)?.skew_s;
  if (typeof skew === 'number' && Math.abs(skew) > 5)
    return {
      name: 'clock',
      ok: false,
      detail: `agent clock is ${skew} s off the hub`,
      fix: 'check NTP (chronyc tracking); readings are time-checked against the hub-corrected clock meanwhile',
    };
  return {
    name: 'clock',
    ok: true,
    detail:
      typeof skew === 'number'
        ? `skew vs hub ${skew} s`
        : `system time ${new Date(now).toISOString()} (no hub reference yet)`,
  };
}

function portCheck(port: number, status: Record<string, unknown> | null): Promise<Check> {
  if (status?.running)
    return Promise.resolve({
      name: 'broker-port',
      ok: true,
      detail: `agent running, broker at ${status.mqtt_url}`,
    });
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      resolve({
        name: 'broker-port',
        ok: false,
        detail: `port ${port}: ${e.code}`,
        fix: `another process holds ${port}: stop it or set --mqtt-port`,
      }),
    );
    srv.listen(port, () =>
      srv.close(() =>
        resolve({ name: 'broker-port', ok: true, detail: `port ${port} is free for the local broker` }),
      ),
    );
  });
}

function hubCheck(
  url: string | undefined,
  agentId: string | undefined,
  username?: string,
  password?: string,
  status?: Record<string, unknown> | null,
): Promise<Check> {
  // A running, connected agent proves reachability and credentials; connecting again with its
  // clientId would take its session over (and fire its last will).
  if (status?.running && status.hub_connected)
    return Promise.resolve({
      name: 'hub',
      ok: true,
      detail: `the running agent is connected to ${status.hub_url}`,
    });
  if (!url)
    return Promise.resolve({
      name: 'hub',
      ok: false,
      detail: 'no hub url configured',
      fix: 'set --hub-url or hubUrl in the config file',
    });
  return new Promise((resolve) => {
    const c = mqtt.connect(url, {
      // The hub accepts exactly `agent:<username>` (an agent may not pose as another).
      clientId: `agent:${agentId ?? username ?? 'doctor'}`,
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const done = (ck: Check) => {
      c.end(true);
      resolve(ck);
    };
    c.once('connect', () =>
      done({
        name: 'hub',
        ok: true,
        detail: `connected to ${redactUrl(url)} as ${username ?? '(anonymous)'}`,
      }),
    );
    c.once('error', (e: Error & { code?: number | string }) =>
      done({
        name: 'hub',
        ok: false,
        detail: `${redactUrl(url)}: ${e.message}`,
        fix:
          e.code === 2 ||
          e.code === 4 ||
          e.code === 5 ||
          /auth|password|Not authorized|identifier/i.test(e.message)
            ? 'credentials refused: re-create them with `cityflow-hub agents add <id>` and set hubUsername/hubPassword'
            : 'hub unreachable: check the URL, the network path and the hub process (data waits in the outbox meanwhile)',
      }),
    );
    setTimeout(
      () =>
        done({
          name: 'hub',
          ok: false,
          detail: `${url}: no answer in 5 s`,
          fix: 'check the network path / firewall to the hub',
        }),
      5500,
    ).unref();
  });
}

function sqliteCheck(dataDir: string): Check {
  try {
    const { db } = openStores(dataDir);
    const r = integrityCheck(db);
    db.close();
    return {
      name: 'sqlite',
      ok: r === 'ok',
      detail: `quick_check: ${r}`,
      fix: r === 'ok' ? undefined : 'stop the agent, move the file aside (`buffer export` first) and restart',
    };
  } catch (e) {
    return {
      name: 'sqlite',
      ok: false,
      detail: (e as Error).message,
      fix: 'start the agent once with this --data-dir to create the buffer',
    };
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check disk, clock, broker port, hub reachability + credentials, SQLite integrity; say what to do',
    )
    .option('--config <file>', 'agent config file')
    .option('--data-dir <dir>', 'agent data dir')
    .option('--agent-id <id>', 'agent id (the hub accepts clientId agent:<id>)')
    .option('--mqtt-port <n>', 'local broker port to check', portArg('--mqtt-port'))
    .option('--hub-url <url>', 'hub broker url')
    .option('--hub-username <u>')
    .option('--hub-password <p>')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cityflow-agent doctor --config /etc/cityflow/agent.yaml\n  $ cityflow-agent doctor --data-dir ./data/agent --hub-url mqtt://hub:1884 --json\nExit code 1 when any check fails.',
    )
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      const file = (o.config ? readConfigFile(o.config as string) : {}) as Record<string, unknown>;
      const pick = <T>(k: string, d?: T): T => (o[k] ?? file[k] ?? d) as T;
      const dataDir = pick<string>('dataDir', DEFAULTS.dataDir);
      const status = await fetchStatus({ dataDir }).catch(() => null);
      const checks: Check[] = [
        diskCheck(dataDir),
        clockCheck(status),
        await portCheck(pick<number>('mqttPort', DEFAULTS.mqttPort), status),
        await hubCheck(
          pick<string | undefined>('hubUrl'),
          pick<string | undefined>('agentId') ?? (status?.agent_id as string | undefined),
          pick<string | undefined>('hubUsername'),
          pick<string | undefined>('hubPassword'),
          status,
        ),
        sqliteCheck(dataDir),
      ];
      const ok = checks.every((c) => c.ok);
      print(!!o.json, { ok, checks }, () =>
        checks
          .map(
            (c) =>
              `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(12)} ${c.detail}${c.fix ? `\n     -> ${c.fix}` : ''}`,
          )
          .join('\n'),
      );
      if (!ok) process.exitCode = 1;
    });
}
