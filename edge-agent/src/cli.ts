import { CityFlowError } from '@cityflow/protocol';
import { Command } from 'commander';
import { registerBuffer } from './cli/buffer.js';
import { CliFailure } from './cli/common.js';
import { registerConfigCheck } from './cli/config-check.js';
import { registerDoctor } from './cli/doctor.js';
import { registerRun } from './cli/run.js';
import { registerStatus } from './cli/status.js';
import { registerTail } from './cli/tail.js';
import { AGENT_VERSION } from './version.js';

const program = new Command('cityflow-agent')
  .description(
    'CityFlow edge agent: local MQTT broker for sensors, durable SQLite buffer, store-and-forward to the hub',
  )
  .version(AGENT_VERSION)
  .addHelpText(
    'after',
    `
Examples:
  $ cityflow-agent run --agent-id A-01 --hub-url mqtt://hub:1884 --hub-username A-01 --hub-password ...
  $ cityflow-agent status --data-dir ./data/agent          # what is buffered, is the hub reachable
  $ cityflow-agent doctor --config agent.yaml              # disk, clock, ports, hub credentials, SQLite
  $ cityflow-agent tail --sensor S-042                     # watch readings arrive
  $ cityflow-agent buffer export --what quarantine         # rejected messages, with their reasons
  $ cityflow-agent config check agent.yaml                 # every config error at once`,
  );
registerRun(program);
registerStatus(program);
registerDoctor(program);
registerBuffer(program);
registerTail(program);
registerConfigCheck(program);

const json = process.argv.includes('--json');
program.parseAsync(process.argv).catch((e: unknown) => {
  const code = e instanceof CityFlowError ? e.code : e instanceof CliFailure ? 'CF_CLI' : 'CF_INTERNAL';
  const details = e instanceof CityFlowError ? e.details : [];
  const message = (e as Error).message;
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, details } })}\n`);
  process.stderr.write(`cityflow-agent: ${code}: ${message}\n${details.map((d) => `  ${d}\n`).join('')}`);
  process.exit(e instanceof CliFailure ? e.exitCode : 1);
});
