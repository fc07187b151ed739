import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchdogIntervalMs } from '../src/health/systemd-notify.js';
import { exited, spawnAgent } from './helpers/child.js';
import { NotifySocket } from './helpers/notify-socket.js';
import { tempDir, useCleanups, waitFor } from './helpers/util.js';

describe('systemd notify protocol (sd_notify(3)) on a real socket', () => {
  const cleanups = useCleanups();

  async function runUnder(socketPath: string, env: NodeJS.ProcessEnv) {
    const tmp = tempDir();
    const sock = new NotifySocket(socketPath);
    await sock.start();
    cleanups.push(tmp.cleanup, () => sock.stop());
    const args = ['--agent-id', 'A-1', '--data-dir', join(tmp.dir, 'data'), '--mqtt-port', '0'];
    const agent = await spawnAgent([...args, '--http-port', '0'], { NOTIFY_SOCKET: socketPath, ...env });
    cleanups.push(() => void agent.child.kill('SIGKILL'));
    return { sock, ...agent };
  }

  it('READY=1 once /health answers, WATCHDOG=1 every half WATCHDOG_USEC, STOPPING=1 on SIGTERM', async () => {
    const tmp = tempDir('cf-notify-');
    cleanups.push(tmp.cleanup);
    const { sock, child, ready } = await runUnder(join(tmp.dir, 'notify'), { WATCHDOG_USEC: '400000' });
    const first = await waitFor(() => sock.messages[0], 'a first datagram');
    expect(first.split('\n')).toEqual(['READY=1', expect.stringMatching(/^STATUS=serving: /)]);
    expect((await fetch(`${ready.http_url}/health`)).status).toBe(200);
    // 200 ms pings: three arrive well within the wait even on a loaded machine
    await waitFor(() => sock.messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 'three watchdog pings');
    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);
    await waitFor(() => sock.messages.includes('STOPPING=1\nSTATUS=stopping'), 'STOPPING=1');
    const stoppingAt = sock.messages.indexOf('STOPPING=1\nSTATUS=stopping');
    expect(sock.messages.slice(stoppingAt + 1)).not.toContain('WATCHDOG=1');
  }, 30_000);

  it('an abstract socket name (@…, as systemd may hand out) works; no WATCHDOG_USEC, no pings', async () => {
    const name = `@cityflow-test-${process.pid}-${Date.now()}`;
    const { sock, child } = await runUnder(name, { WATCHDOG_USEC: '' });
    await waitFor(() => sock.messages[0]?.startsWith('READY=1\n'), 'READY=1 on the abstract socket');
    child.kill('SIGTERM');
    await exited(child);
    await waitFor(() => sock.messages.includes('STOPPING=1\nSTATUS=stopping'), 'STOPPING=1');
    expect(sock.messages).not.toContain('WATCHDOG=1');
  }, 30_000);

  it('watchdog interval: half of WATCHDOG_USEC, only for the PID systemd names', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' })).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' })).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'x' })).toBeNull();
    expect(watchdogIntervalMs({})).toBeNull();
  });
});
