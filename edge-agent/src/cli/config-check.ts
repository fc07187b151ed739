import type { Command } from 'commander';
import { checkConfigFile, readConfigFile } from '../config.js';
import { print } from './common.js';

export function registerConfigCheck(program: Command): void {
  const config = program.command('config').description('configuration files');
  config
    .command('check <file>')
    .description('validate a JSON or YAML config file and report every error')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  $ cityflow-agent config check /etc/cityflow/agent.yaml\nExit code 1 when the file is invalid.',
    )
    .action((file: string, o: { json?: boolean }) => {
      let errors: string[];
      try {
        errors = checkConfigFile(readConfigFile(file));
      } catch (e) {
        errors = [(e as Error).message];
      }
      print(!!o.json, { file, ok: errors.length === 0, errors }, () =>
        errors.length
          ? `${file}: ${errors.length} error(s)\n${errors.map((e) => `  ${e}`).join('\n')}`
          : `${file}: ok`,
      );
      if (errors.length) process.exitCode = 1;
    });
}
