import { type ChildProcess, spawn } from 'node:child_process';

// Node cannot bind an AF_UNIX datagram socket, so the test's socket is opened by a perl child
// (perl-base, core Socket). Each datagram is printed hex-encoded on one line.
const RECEIVER = `use strict; use Socket; $| = 1;
my $p = $ARGV[0]; $p =~ s/^@/\\0/;
socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\\n";
bind($s, pack_sockaddr_un($p)) or die "bind: $!\\n";
print "bound\\n";
while (defined(recv($s, my $buf, 65536, 0))) { print unpack("H*", $buf), "\\n"; }`;

/** A real notify socket (what systemd's manager listens on), with the datagrams received so far. */
export class NotifySocket {
  readonly messages: string[] = [];
  private child: ChildProcess | null = null;

  /** `path`: a file path, or `@name` for Linux's abstract namespace (as systemd may hand out). */
  constructor(readonly path: string) {}

  start(): Promise<void> {
    const child = spawn('perl', ['-e', RECEIVER, this.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    return new Promise((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d) => {
        buf += d;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === 'bound') resolve();
          else this.messages.push(Buffer.from(line, 'hex').toString('utf8'));
          nl = buf.indexOf('\n');
        }
      });
      child.once('exit', (code) => reject(new Error(`notify socket receiver exited ${code}: ${err}`)));
    });
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}
