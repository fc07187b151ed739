import type { Command } from 'commander';
import { statusFromStore } from '../health/status.js';
import { CliFailure, openStores, print } from './common.js';

export async function fetchStatus(o: { url?: string; dataDir?: string }): Promise<Record<string, unknown>> {
  if (o.url) {
    const res = await fetch(new URL('/status', o.url)).catch((e: Error) => {
      throw new CliFailure(`cannot reach the agent at ${o.url}: ${e.message}`);
    });
    if (!res.ok) throw new CliFailure(`agent at ${o.url} answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }
  const { db, meta, outbox } = openStores(o.dataDir ?? './data/agent');
  try {
    const s = statusFromStore(meta, outbox, Date.now());
    const pid = s.pid as number | null;
    const running = typeof pid === 'number' && pid > 0 && alive(pid);
    return { ...s, running, hub_connected: running ? s.hub_connected : false };
  } finally {
    db.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function human(s: Record<string, unknown>): string {
  const lines = [
    `agent ${s.agent_id ?? '?'}  ${s.running ? 'running' : 'not running'}  hub ${s.hub_connected ? 'connected' : 'NOT connected'}`,
    `readings ${s.readings_total}  quarantined ${s.quarantined_total}  flagged ${s.readings_flagged_total ?? 0}  late ${s.readings_late_total ?? 0}`,
    `outbox pending ${s.outbox_pending} (${s.outbox_bytes} bytes), oldest ${s.outbox_oldest_age_s ?? '-'} s`,
    `dropped ${JSON.stringify(s.dropped ?? {})}  parked ${s.parked_total ?? 0}  rejected by hub ${s.rejected_by_hub_total ?? 0}`,
    `clock ${JSON.stringify(s.clock ?? null)}`,
    `network slice ${s.network_slice ? JSON.stringify(s.network_slice) : 'none received yet (unknown sensors are kept and flagged)'}`,
  ];
  if (s.mqtt_url) lines.push(`local broker ${s.mqtt_url}  http ${s.http_url}`);
  return lines.join('\n');
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show what the agent holds and whether it reaches the hub')
    .option('--data-dir <dir>', 'read the SQLite buffer directly (works when the agent is stopped)')
    .option('--url <url>', 'ask a running agent over HTTP, e.g. http://127.0.0.1:9464')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cityflow-agent status --data-dir /var/lib/cityflow\n  $ cityflow-agent status --url http://127.0.0.1:9464 --json',
    )
    .action(async (o: { url?: string; dataDir?: string; json?: boolean }) => {
      const s = await fetchStatus(o);
      print(!!o.json, s, () => human(s));
    });
}
