/**
 * The flood of bench/broker-flood.js at a smaller scale, against the real agent binary: connections
 * announcing 256 MB and streaming, plus retained 512 KB publishes. The agent stays under 150 MB of peak
 * RSS and a normal sensor still gets its PUBACK. (Full scale and figures: `npm run bench -- flood`.)
 */
import { topics } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { memoryOf, oversizeFlood, pubackMs, retainedFlood } from '../../bench/lib/flood.js';
import { spawnAgent } from './helpers/child.js';
import { reading, tempDir, useCleanups } from './helpers/util.js';

describe('the agent under a flood (real process)', () => {
  const cleanups = useCleanups();

  it('20 connections announcing 256 MB (streaming 10 MB each) + 200 retained 512 KB publishes: peak RSS < 150 MB, a sensor still acked', async () => {
    const tmp = tempDir();
    const { child, ready } = await spawnAgent([
      '--agent-id',
      'F-1',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
    ]);
    cleanups.push(tmp.cleanup, () => {
      child.kill('SIGKILL');
    });
    const port = Number(new URL(ready.mqtt_url).port);
    await Promise.all([
      oversizeFlood(port, { connections: 20, announce: 256 * 1024 * 1024 - 1, maxBytes: 10 << 20 }),
      retainedFlood(ready.mqtt_url, {
        count: 200,
        size: 512 * 1024,
        topic: (i: number) => topics.sensor(`X-${i}`),
      }),
    ]);
    expect(
      await pubackMs(ready.mqtt_url, topics.sensor('S-1'), reading('S-1', 'R-1', Date.now())),
    ).toBeGreaterThan(0);
    expect(memoryOf(child.pid!).peak_rss_bytes).toBeLessThan(150 * 2 ** 20);
  }, 120_000);
});
