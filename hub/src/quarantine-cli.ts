import { writeFileSync } from 'node:fs';
import { loadNetworkFile } from '@cityflow/protocol';
import type { Command } from 'commander';
import { HubClock } from './clock.js';
import type { ClockMode } from './config.js';
import type { Db } from './db/db.js';
import { replayQuarantine } from './ingest/replay.js';
import { type QuarantineFilter, listQuarantine, quarantinePayloads } from './store/quarantine-store.js';

interface FilterFlags {
  code?: string;
  agent?: string;
  id?: string[];
  limit?: string;
  all?: boolean;
}

const filterOf = (o: FilterFlags): QuarantineFilter => ({
  code: o.code,
  agentId: o.agent,
  ids: o.id?.map(Number),
  limit: o.limit ? Number(o.limit) : undefined,
});

/** The dead-letter payload for people: its JSON when it is JSON, else base64 of its bytes. */
function payloadOf(body: Buffer): { payload?: unknown; payload_base64?: string } {
  try {
    return { payload: JSON.parse(body.toString('utf8')) };
  } catch {
    return { payload_base64: body.toString('base64') };
  }
}

/**
 * `cityflow-hub quarantine list|export|replay`: what the hub refused, with the reason, and a way to
 * take it back once the cause is fixed.
 */
export function registerQuarantineCommands(
  program: Command,
  withDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>,
  network: () => { file: string; clock: ClockMode },
): void {
  const q = program.command('quarantine').description('dead letters: what the hub refused, and why');
  const filters = (c: Command) =>
    c
      .option('--code <code>', 'only this error code (e.g. CF_UNKNOWN_SENSOR)')
      .option('--agent <agent-id>', 'only this agent')
      .option('--id <id...>', 'only these rows')
      .option('--limit <n>', 'at most n rows (default 1000)');

  filters(q.command('list').description('list dead letters (newest last)'))
    .option('--json', 'one JSON document on stdout')
    .action(async (o: FilterFlags & { json?: boolean }) => {
      const rows = await withDb((db) => listQuarantine(db, filterOf(o)));
      if (o.json) return console.log(JSON.stringify(rows));
      for (const r of rows)
        console.log(
          `${r.id}\t${r.received_at}\t${r.agent_id ?? '-'}\t${r.stream ?? '-'}\t${r.seq ?? '-'}\t${r.code}\t${r.bytes} B${r.truncated ? ' (cut)' : ''}${r.replayed_at ? `\treplayed ${r.replayed_at}` : ''}\t${r.message}`,
        );
      console.error(`${rows.length} row(s)`);
    });

  filters(q.command('export').description('export dead letters with their payloads as NDJSON'))
    .option('--out <file>', 'write to a file (default stdout)')
    .action(async (o: FilterFlags & { out?: string }) => {
      const rows = await withDb((db) => quarantinePayloads(db, filterOf(o)));
      const lines = rows.map(({ body, ...r }) => JSON.stringify({ ...r, ...payloadOf(body) }));
      const text = lines.length ? `${lines.join('\n')}\n` : '';
      if (o.out) {
        writeFileSync(o.out, text, { mode: 0o600 });
        console.error(`${rows.length} row(s) written to ${o.out}`);
      } else process.stdout.write(text);
    });

  filters(
    q
      .command('replay')
      .description(
        'replay summary/forecast dead letters through the ingest checks with the current network (NETWORK_FILE); stored once, then marked replayed',
      ),
  )
    .option('--json', 'one JSON document on stdout')
    .action(async (o: FilterFlags & { json?: boolean }) => {
      const { file, clock } = network();
      const net = loadNetworkFile(file);
      const out = await withDb((db) => replayQuarantine(db, net, new HubClock(clock), filterOf(o)));
      if (o.json) console.log(JSON.stringify(out));
      else
        for (const r of out)
          console.log(`${r.id}\t${r.outcome}\t${r.stored}${r.reason ? `\t${r.reason}` : ''}`);
      const stored = out.filter((r) => r.outcome === 'stored').length;
      console.error(`${stored} of ${out.length} row(s) replayed`);
    });
}
