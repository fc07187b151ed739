import { CityFlowError } from '@cityflow/protocol';
import type { Command } from 'commander';
import { resolveConfig } from '../config.js';
import { optionsFromEnv } from './from-env.js';

/**
 * `cityflow-hub config check`: the environment as `serve` would read it, every problem listed (one
 * line each) without starting anything; exit 1 when there is one. Secrets are never printed.
 */
export function registerConfigCheck(program: Command): void {
  program
    .command('config')
    .description('configuration')
    .command('check')
    .description('validate this environment as `serve` reads it and report every error (see `serve --help`)')
    .option('--json', 'one JSON document {ok, errors} on stdout')
    .action((o: { json?: boolean }) => {
      let errors: string[] = [];
      try {
        resolveConfig(optionsFromEnv());
      } catch (e) {
        if (!(e instanceof CityFlowError)) throw e;
        errors = e.details.length ? e.details : [e.message];
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ ok: errors.length === 0, errors })}\n`);
      else if (errors.length)
        process.stdout.write(`${errors.length} error(s)\n${errors.map((e) => `  ${e}`).join('\n')}\n`);
      else process.stdout.write('ok\n');
      if (errors.length) process.exitCode = 1;
    });
}
