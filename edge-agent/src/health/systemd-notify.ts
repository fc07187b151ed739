/**
 * systemd's notify protocol (sd_notify(3)): READY=1 once the agent serves, WATCHDOG=1 every half
 * WATCHDOG_USEC, STOPPING=1 when shutdown begins, as datagrams on the AF_UNIX socket $NOTIFY_SOCKET.
 *
 * Node has no AF_UNIX datagram sockets (libuv's pipes are SOCK_STREAM only; connecting one to the
 * notify socket fails with EPROTOTYPE) and the single executable carries no extra native addon. So
 * one long-lived `perl` co-process writes the datagrams: perl-base is Essential on Debian and
 * Raspberry Pi OS (dpkg needs it), and its core Socket module does AF_UNIX/SOCK_DGRAM, abstract names
 * (`@…`) included. Long-lived matters: systemd identifies a sender by its PID's cgroup, and a helper
 * that exits right after sending (systemd-notify's known race) is often no longer there to be found.
 * The unit must say NotifyAccess=all, since the sender is the agent's child. Pings go out from the
 * agent's event loop, so a stuck loop stops them and the watchdog fires as intended.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '../logger.js';

// One datagram per message: its lines, then an empty line.
const SENDER = `use strict; use Socket;
my $p = $ENV{NOTIFY_SOCKET}; $p =~ s/^@/\\0/;
socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\\n";
my $to = pack_sockaddr_un($p); my $m = '';
while (my $l = <STDIN>) {
  if ($l eq "\\n") { chomp $m; send($s, $m, 0, $to) or warn "sd_notify send: $!\\n"; $m = ''; }
  else { $m .= $l; }
}`;

/** Half of WATCHDOG_USEC in ms, or null when systemd asks for no watchdog (or asks another PID). */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SystemdNotifier {
  private child: ChildProcess | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {}

  /** True when started by systemd with Type=notify (or by a test that opened a socket). */
  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /** Starts the sender; sends READY=1 and starts the watchdog pings. */
  ready(status: string): void {
    if (!this.enabled || this.child) return;
    const child = spawn('perl', ['-e', SENDER], {
      env: { PATH: this.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: this.env.NOTIFY_SOCKET },
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    this.child = child;
    child.on('error', (err) =>
      this.log.error({ err }, 'sd_notify sender (perl) failed: systemd will not see READY'),
    );
    child.on('exit', (code, signal) => {
      if (this.child === child) this.log.warn({ code, signal }, 'sd_notify sender exited');
      this.child = null;
    });
    child.stdin?.on('error', () => {}); // reported by 'exit'/'error' above
    child.unref();
    this.send(['READY=1', `STATUS=${status}`]);
    const every = watchdogIntervalMs(this.env);
    if (every !== null) {
      this.watchdog = setInterval(() => this.send(['WATCHDOG=1']), every);
      this.watchdog.unref();
    }
    this.log.info({ watchdog_ms: every }, 'systemd notified: ready');
  }

  /** STOPPING=1: systemd now expects the process to exit (no more watchdog pings). */
  stopping(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.send(['STOPPING=1', 'STATUS=stopping']);
  }

  /** Ends the sender once it has written what it was given (stdin EOF). */
  close(): void {
    this.stopping();
    this.child?.stdin?.end();
    this.child = null;
  }

  private send(assignments: string[]): void {
    const stdin = this.child?.stdin;
    if (!stdin?.writable) return;
    // Values are one line each in the protocol; an empty line ends the datagram.
    stdin.write(`${assignments.map((a) => a.replace(/\n/g, ' ')).join('\n')}\n\n`);
  }
}
