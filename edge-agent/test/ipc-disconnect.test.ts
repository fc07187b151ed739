import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exited, runCli, spawnAgent } from './helpers/child.js';
import { tempDir, useCleanups } from './helpers/util.js';

describe('run under a parent with an IPC channel', () => {
  const cleanups = useCleanups();

  it('stops gracefully (exit 0) when the parent disconnects the channel, as when it is killed', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const data = join(tmp.dir, 'data');
    const { child } = await spawnAgent(
      ['--agent-id', 'A-1', '--data-dir', data, '--mqtt-port', '0', '--http-port', '0'],
      {},
      { ipc: true },
    );
    cleanups.push(() => void child.kill('SIGKILL'));
    expect(child.connected).toBe(true);
    child.disconnect();
    const { code, signal } = await exited(child);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    // a graceful stop: the runtime record says the agent is no longer running
    const st = await runCli(['status', '--data-dir', data, '--json']);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: false });
  }, 30_000);
});
