/**
 * A restored old SD image: the image holds a summary still pending when it was taken; the original
 * lives on (sends it, records more), dies; the image is restored and records new minutes. The hub ends
 * with every reading once: the image's stale rows are not counted twice, its new ones are not lost.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { minuteAgo, startLives } from '../lib/agent-lives.mjs';

export default {
  name: 'restored old SD image',
  async run() {
    const lives = await startLives();
    try {
      const card = join(lives.dir, 'card');
      const image = join(lives.dir, 'image');
      const before = await lives.agent(card, false);
      await before.feed(minuteAgo(20), 4);
      await before.stop();
      cpSync(card, image, { recursive: true });
      const original = await lives.agent(card, true);
      for (const k of [19, 18]) await original.feed(minuteAgo(k), 3);
      await original.drained();
      await original.stop();
      rmSync(card, { recursive: true, force: true });
      cpSync(image, card, { recursive: true });
      const restored = await lives.agent(card, true);
      const t = Date.now();
      for (const k of [17, 16]) await restored.feed(minuteAgo(k), 2);
      await restored.drained();
      const recover_s = Math.round((Date.now() - t) / 100) / 10;
      await restored.stop();
      return lives.row(recover_s, 'image with 1 pending summary; original sent 3; restored image recorded 2');
    } finally {
      await lives.close();
    }
  },
};
