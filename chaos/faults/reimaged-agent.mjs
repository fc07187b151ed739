/**
 * A re-imaged (wiped) agent: its first life is acked up to watermark W; the new database records more
 * than W summaries while offline, then reaches the hub. None of them is taken for a duplicate.
 */
import { join } from 'node:path';
import { minuteAgo, startLives } from '../lib/agent-lives.mjs';

export default {
  name: 're-imaged agent',
  async run() {
    const lives = await startLives();
    try {
      const first = await lives.agent(join(lives.dir, 'card-1'), true);
      for (const k of [20, 19, 18]) await first.feed(minuteAgo(k), 4);
      await first.drained();
      await first.stop();
      const wiped = join(lives.dir, 'card-2');
      const offline = await lives.agent(wiped, false);
      for (const k of [17, 16, 15, 14, 13]) await offline.feed(minuteAgo(k), 3);
      await offline.stop();
      const back = await lives.agent(wiped, true);
      const t = Date.now();
      await back.drained();
      const recover_s = Math.round((Date.now() - t) / 100) / 10;
      await back.stop();
      return lives.row(
        recover_s,
        '3 summaries acked in the first life, 5 recorded offline by the wiped card',
      );
    } finally {
      await lives.close();
    }
  },
};
