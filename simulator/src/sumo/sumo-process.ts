import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CityFlowError } from '@cityflow/protocol';
import type { SumoScenario } from './scenario.js';
import { rewriteAdditionalFiles } from './scenario.js';

export interface SumoRun {
  dir: string;
  tripinfo: string;
  vehroutes: string;
  child: ChildProcess;
  /** resolves with SUMO's exit code; rejects when it could not start */
  exited: Promise<number>;
  stderr(): string;
}

export const SUMO_BINARY = process.env.SUMO_BINARY ?? 'sumo';

/** A free TCP port on loopback (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/**
 * Starts SUMO on the scenario with every output in `runDir`: trip info with emissions (unfinished
 * trips included, so a vehicle stuck at the end is not hidden), routes with exit times (the cohort),
 * and `extra` options (SUMO's rerouting device, or `--remote-port` for TraCI).
 */
export function startSumo(s: SumoScenario, runDir: string, extra: string[]): SumoRun {
  const additional = rewriteAdditionalFiles(s, runDir);
  const tripinfo = join(runDir, 'tripinfo.xml');
  const vehroutes = join(runDir, 'vehroutes.xml');
  const args = [
    '-c',
    s.sumocfg,
    ...(additional.length ? ['--additional-files', additional.join(',')] : []),
    '--tripinfo-output',
    tripinfo,
    '--tripinfo-output.write-unfinished',
    '--device.emissions.probability',
    '1',
    '--vehroute-output',
    vehroutes,
    '--vehroute-output.exit-times',
    '--no-step-log',
    '--no-warnings',
    '--end',
    String(s.endS),
    ...(s.sumoSeed === null ? [] : ['--seed', String(s.sumoSeed)]),
    ...extra,
  ];
  const child = spawn(SUMO_BINARY, args, { cwd: runDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  child.stdout!.resume();
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) =>
      reject(
        new CityFlowError(
          'CF_INVALID_CONFIG',
          `cannot start ${SUMO_BINARY} (${e.message}): install SUMO (apt-get install sumo sumo-tools)`,
        ),
      ),
    );
    child.once('exit', (code) => resolve(code ?? 1));
  });
  return { dir: runDir, tripinfo, vehroutes, child, exited, stderr: () => err };
}

/** Runs SUMO to the end without TraCI; throws with its stderr when it fails. */
export async function runSumoToEnd(s: SumoScenario, runDir: string, extra: string[] = []): Promise<SumoRun> {
  const run = startSumo(s, runDir, extra);
  const code = await run.exited;
  if (code !== 0) throw new CityFlowError('CF_INVALID_CONFIG', `sumo exited ${code}: ${run.stderr()}`);
  return run;
}
