import { describe, expect, it } from 'vitest';
import { openDb } from '../src/storage/sqlite.js';
import { exited, spawnAgent } from './helpers/child.js';
import { connect, reading, tempDir, useCleanups } from './helpers/util.js';

describe('acked means durable (real process, kill -9)', () => {
  const cleanups = useCleanups();

  it('every reading PUBACKed before kill -9 during heavy ingest is in SQLite after the crash', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { child, ready } = await spawnAgent([
      '--agent-id',
      'A-1',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
    ]);
    cleanups.push(() => void child.kill('SIGKILL'));
    const c = await connect(ready.mqtt_url);
    const acked: number[] = [];
    const base = Date.now() - 60_000;
    let next = 0;
    let killed = false;
    // 200 in flight; each reading has a unique timestamp so we can find it again.
    await new Promise<void>((resolve) => {
      const send = () => {
        if (killed) return;
        const i = next++;
        c.publish('cityflow/traffic/S-1', reading('S-1', 'R-1', base + i), { qos: 1 }, (err) => {
          if (err || killed) return;
          acked.push(i);
          if (acked.length >= 3000 && !killed) {
            killed = true;
            child.kill('SIGKILL');
            resolve();
            return;
          }
          send();
        });
      };
      for (let k = 0; k < 200; k++) send();
    });
    const { signal } = await exited(child);
    expect(signal).toBe('SIGKILL');
    c.end(true);
    const db = openDb(tmp.dir);
    const stored = new Set(
      (db.prepare('SELECT ts_ms FROM readings').all() as Array<{ ts_ms: number }>).map((r) => r.ts_ms - base),
    );
    const counter = (
      db.prepare("SELECT value FROM counters WHERE name = 'readings_total'").get() as { value: number }
    ).value;
    db.close();
    const lost = acked.filter((i) => !stored.has(i));
    expect(lost).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(3000);
    // the durable counter commits with the rows it counts
    expect(counter).toBe(stored.size);
  }, 30_000);
});
