/**
 * A corrupt SD card: with the hub link cut (a backlog builds up), the agent stops and two leaf pages
 * of its outbox are overwritten with garbage, as a torn write leaves them; it restarts, moves the
 * file aside, salvages the rest and the link comes back. The summaries on those pages are lost, and
 * reported: the hub's watermark passes them (skipped `corrupt`) instead of waiting for ever.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runScenario } from '../lib/scenario.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function trashOutboxPages(file, count) {
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true });
  const leaves = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'outbox' AND pagetype = 'leaf' ORDER BY pageno")
    .all()
    .map((r) => r.pageno);
  db.close();
  const junk = Buffer.alloc(pageSize);
  for (let i = 0; i < pageSize; i++) junk[i] = (i * 131 + 7) & 0xff;
  const fd = openSync(file, 'r+');
  const mid = Math.floor(leaves.length / 2);
  const hit = leaves.slice(mid, mid + count);
  for (const p of hit) writeSync(fd, junk, 0, pageSize, (p - 1) * pageSize);
  closeSync(fd);
  return { hit: hit.length, of: leaves.length };
}

export default {
  name: 'corrupt card (2 outbox pages)',
  expectsLoss: true,
  run: () =>
    runScenario({
      inject: async (world) => {
        await sleep(1000);
        world.proxy.cut();
        await sleep(5000);
        const startedMs = Date.now();
        await world.stopAgent('SIGTERM'); // the WAL is checkpointed: the damage hits the file's pages
        const { hit, of } = trashOutboxPages(join(world.agentDir, 'agent.sqlite'), 2);
        await world.startAgent();
        const s = await world.status();
        world.proxy.restore();
        const alarm = s.alarms.some((a) => a.code === 'CF_DB_CORRUPT');
        return {
          startedMs,
          endedMs: Date.now(),
          note: `${hit} of ${of} outbox leaf pages trashed; CF_DB_CORRUPT ${alarm ? 'raised' : 'NOT raised'}`,
        };
      },
    }),
};
