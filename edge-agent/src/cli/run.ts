import { portArg } from '@cityflow/protocol';
import type { Command } from 'commander';
import { Agent } from '../agent.js';
import { readConfigFile, resolveConfig } from '../config.js';
import { SystemdNotifier } from '../health/systemd-notify.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent: local broker, SQLite buffer, summaries, forecasts, uplink to the hub')
    .option('--config <file>', 'JSON or YAML config file (keys = these flags in camelCase)')
    .option('--agent-id <id>', 'this agent id (as in the network file)')
    .option('--data-dir <dir>', 'where the SQLite buffer lives (default ./data/agent)')
    .option(
      '--mqtt-port <n>',
      'local broker port for sensors (default 1883; 0 = any free port)',
      portArg('--mqtt-port'),
    )
    .option(
      '--http-port <n>',
      '/health and /metrics port (default 9464; 0 = any free port)',
      portArg('--http-port'),
    )
    .option('--hub-url <url>', 'hub broker, e.g. mqtt://hub.example:1884')
    .option('--hub-username <u>', 'hub credentials (from `cityflow-hub agents add`)')
    .option('--hub-password <p>', 'hub password (prefer the config file: flags show in ps)')
    .option(
      '--hub-ca <file>',
      'PEM CA that signed the hub certificate (mqtts://; pins it instead of the system CAs)',
    )
    .option('--hub-cert <file>', 'PEM client certificate for mutual TLS with the hub (with --hub-key)')
    .option('--hub-key <file>', 'PEM private key of --hub-cert')
    .option('--clock <mode>', 'wall (live) or data (follow reading timestamps, for replays)')
    .addHelpText(
      'after',
      `
Examples:
  $ cityflow-agent run --agent-id A-01 --hub-url mqtt://127.0.0.1:1884 --hub-username A-01 --hub-password s3cret
  $ cityflow-agent run --config /etc/cityflow/agent.yaml --clock data
When ready it prints one JSON line on stdout: {"event":"ready","agent_id",...,"mqtt_url","http_url"}.
SIGTERM/SIGINT stop it gracefully (stop accepting, flush, commit, close); so does the parent closing
the IPC channel when it was spawned with one (stdio 'ipc'), so a killed parent leaves no orphan.`,
    )
    .action(async (o: Record<string, unknown>) => {
      const file = o.config ? readConfigFile(o.config as string) : {};
      const fromFile = (file ?? {}) as Record<string, unknown>;
      const agentId =
        (o.agentId as string | undefined) ??
        (fromFile.agentId as string | undefined) ??
        process.env.CITYFLOW_AGENT_ID;
      const config = resolveConfig(file, {
        agentId,
        dataDir: o.dataDir,
        mqttPort: o.mqttPort,
        httpPort: o.httpPort,
        hubUrl: o.hubUrl,
        hubUsername: o.hubUsername,
        hubPassword: o.hubPassword,
        hubCa: o.hubCa,
        hubCert: o.hubCert,
        hubKey: o.hubKey,
        clock: o.clock,
      });
      const agent = new Agent(config);
      await agent.start();
      process.stdout.write(
        `${JSON.stringify({ event: 'ready', agent_id: config.agentId, mqtt_url: agent.mqttUrl, http_url: agent.httpUrl, data_dir: config.dataDir })}\n`,
      );
      // Under systemd (Type=notify): READY=1 now that /health answers, then watchdog pings.
      const systemd = new SystemdNotifier(process.env, agent.log.child({ mod: 'systemd' }));
      systemd.ready(`serving: broker ${agent.mqttUrl}, health ${agent.httpUrl}`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        agent.log.info({ signal }, 'stopping');
        systemd.stopping();
        const exit = (code: number) => {
          systemd.close();
          process.exit(code);
        };
        agent.stop().then(
          () => exit(0),
          (e) => {
            agent.log.error({ err: e }, 'stop failed');
            exit(1);
          },
        );
      };
      // a corrupt page met while running: stop, exit 70 (EX_SOFTWARE); the restart checks every page
      agent.onFatal = () => {
        if (stopping) return;
        stopping = true;
        agent.stop().finally(() => process.exit(70));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // Spawned with an IPC channel (e.g. by the demo): the parent's death closes it, even a SIGKILL
      // the parent cannot forward, so no orphan agent keeps running.
      if (process.send) {
        if (process.connected) process.once('disconnect', () => stop('parent disconnected'));
        else stop('parent disconnected');
      }
    });
}
