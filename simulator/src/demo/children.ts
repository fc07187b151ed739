import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.js';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * The demo's child processes. Each child's output is echoed line by line with its name as prefix;
 * an exit nobody asked for is reported through `onUnexpectedExit` (never silently ignored).
 */
export class ChildGroup {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(
    private readonly log: Logger,
    private readonly onUnexpectedExit: (
      name: string,
      code: number | null,
      signal: NodeJS.Signals | null,
    ) => void,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  start(spec: ChildSpec): ChildProcess {
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      // The IPC slot carries no messages: it closes when this process dies, even by SIGKILL, and
      // the hub and agents stop on its 'disconnect' instead of living on as orphans.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.children.set(spec.name, child);
    const prefix = `[${spec.name}] `;
    for (const stream of [child.stdout, child.stderr])
      if (stream)
        createInterface({ input: stream }).on('line', (line) => this.out.write(prefix + line + '\n'));
    child.on('error', (err) =>
      this.log.error({ child: spec.name, err: err.message }, 'child failed to start'),
    );
    child.on('exit', (code, signal) => {
      this.children.delete(spec.name);
      if (this.stopping) this.log.info({ child: spec.name, code, signal }, 'child stopped');
      else this.onUnexpectedExit(spec.name, code, signal);
    });
    this.log.info({ child: spec.name, child_pid: child.pid }, 'child started');
    return child;
  }

  get running(): string[] {
    return [...this.children.keys()];
  }

  /**
   * Stops children in the given order groups (e.g. agents first, then the hub, so the agents'
   * last data reaches a live hub): SIGTERM, then SIGKILL after `graceMs`.
   */
  async stop(order: string[][], graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const remaining = new Set(this.children.keys());
    const stages = [...order.map((names) => names.filter((n) => remaining.has(n))), [...remaining]];
    for (const names of stages) {
      await Promise.all(names.map((n) => this.stopOne(n, graceMs)));
      for (const n of names) remaining.delete(n);
    }
  }

  private stopOne(name: string, graceMs: number): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn({ child: name, grace_ms: graceMs }, 'child did not stop in time, killing it');
        child.kill('SIGKILL');
      }, graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
