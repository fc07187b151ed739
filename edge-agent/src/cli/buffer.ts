import { SEQUENCED_STREAMS } from '@cityflow/protocol';
import type { Command } from 'commander';
import { dbBytes } from '../storage/outbox-policy.js';
import { CliFailure, openStores, print } from './common.js';

export function registerBuffer(program: Command): void {
  const buffer = program
    .command('buffer')
    .description('inspect the SQLite buffer (readings, outbox, quarantine)');
  buffer
    .command('stats')
    .description('sizes and ages of what the buffer holds')
    .option('--data-dir <dir>', 'agent data dir', './data/agent')
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  $ cityflow-agent buffer stats --data-dir /var/lib/cityflow --json')
    .action((o: { dataDir: string; json?: boolean }) => {
      const { db, outbox, readings } = openStores(o.dataDir);
      try {
        const streams = Object.fromEntries(SEQUENCED_STREAMS.map((s) => [s, outbox.stats(s)]));
        const q = db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number };
        const doc = {
          db_bytes: dbBytes(db),
          readings: readings.count(),
          quarantine: q.n,
          parked: outbox.parkedCount(),
          streams,
        };
        print(!!o.json, doc, () =>
          [
            `database ${doc.db_bytes} bytes, ${doc.readings} raw readings, ${doc.quarantine} quarantined, ${doc.parked} parked`,
            ...SEQUENCED_STREAMS.map((s) => {
              const st = streams[s]!;
              return `${s.padEnd(9)} pending ${st.pending} (${st.bytes} bytes) watermark ${st.watermark} highest seq ${st.highestSeq}${st.oldestMs ? ` oldest ${new Date(st.oldestMs).toISOString()}` : ''}`;
            }),
          ].join('\n'),
        );
      } finally {
        db.close();
      }
    });
  buffer
    .command('export')
    .description('write buffer rows as NDJSON on stdout (one JSON object per line)')
    .option('--data-dir <dir>', 'agent data dir', './data/agent')
    .option('--what <kind>', 'outbox | readings | quarantine | parked', 'outbox')
    .option('--limit <n>', 'at most n rows', '100000')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cityflow-agent buffer export --what quarantine > dead-letters.ndjson\n  $ cityflow-agent buffer export --what readings --limit 1000',
    )
    .action((o: { dataDir: string; what: string; limit: string }) => {
      const sql: Record<string, string> = {
        outbox: 'SELECT stream, seq, created_ms, tries, body FROM outbox ORDER BY stream, seq LIMIT ?',
        readings:
          'SELECT ts_ms, sensor_id, road_id, speed, flow, occ, flagged, summarised FROM readings ORDER BY ts_ms LIMIT ?',
        quarantine: 'SELECT id, recv_ms, topic, code, errors, payload FROM quarantine ORDER BY id LIMIT ?',
        parked: 'SELECT stream, seq, reason, parked_ms, body FROM parked ORDER BY stream, seq LIMIT ?',
      };
      const q = sql[o.what];
      if (!q) throw new CliFailure(`--what must be one of ${Object.keys(sql).join(', ')}`);
      const { db } = openStores(o.dataDir);
      try {
        for (const row of db.prepare(q).iterate(Number(o.limit)) as Iterable<Record<string, unknown>>) {
          if (typeof row.body === 'string') row.body = JSON.parse(row.body);
          if (typeof row.errors === 'string') row.errors = JSON.parse(row.errors);
          process.stdout.write(`${JSON.stringify(row)}\n`);
        }
      } finally {
        db.close();
      }
    });
}
