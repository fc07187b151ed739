import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CityFlowError, isValidId, portArg } from '@cityflow/protocol';
import { Command, Option } from 'commander';
import { environmentHelp, optionsFromEnv, resolveConfig } from './config.js';
import { registerConfigCheck } from './config/check-cli.js';
import { type Db, openDb } from './db/db.js';
import { migrate } from './db/migrations.js';
import { startHub } from './hub.js';
import { HUB_USERNAME } from './mqtt/acl.js';
import { writeMosquittoConfig } from './mqtt/mosquitto-config.js';
import { registerQuarantineCommands } from './quarantine-cli.js';
import { createAgent, rotateAgentCredentials, setAgentDisabled } from './store/agents.js';
import { newUserPassword } from './auth/passwords.js';
import { LiveBus } from './live/bus.js';
import { type UserChange, removeUser, resetUserPassword, setUserRole, upsertUser } from './store/users.js';

const fail = (e: unknown): never => {
  const err = e as Error & { code?: string; details?: string[] };
  console.error(err instanceof CityFlowError ? `${err.code}: ${err.message}` : `error: ${err.message}`);
  process.exit(1);
};

/**
 * The configuration of the admin verbs: the environment as `serve` reads it, but these verbs sign no
 * token and seed nothing, so JWT_SECRET and CITYFLOW_AGENTS_FILE are serve's concern.
 */
function verbConfig() {
  const env = optionsFromEnv();
  return resolveConfig({ ...env, jwtSecret: env.jwtSecret ?? 'unused-by-this-verb', agentsFile: undefined });
}

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const cfg = verbConfig();
  const db = await openDb(cfg.databaseUrl, { max: cfg.pgPool, queryTimeoutMs: cfg.pgQueryTimeoutMs });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A refused admin action (unknown user, last admin) fails the verb with its reason. */
function applied(c: UserChange) {
  if (!c.ok) throw new CityFlowError('CF_INVALID_CONFIG', c.message);
  return c.user;
}

/**
 * Tells running hubs that a user's tokens changed. With REDIS_URL they hear it at once; without (or
 * with Redis down) each replica picks it up from the database within CITYFLOW_REVOCATION_POLL_S.
 */
async function announce(userId: number, version: number | null): Promise<void> {
  const { redisUrl, redisPrefix } = verbConfig();
  if (!redisUrl) return;
  const sent = await LiveBus.publishOnce(redisUrl, redisPrefix, {
    type: 'user-tokens',
    data: { user_id: userId, version },
  });
  if (!sent)
    console.error('warning: Redis unreachable; running hubs apply this within CITYFLOW_REVOCATION_POLL_S');
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const rlw = rl as unknown as { _writeToOutput: (s: string) => void };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    // Echo nothing after the question: a password must not appear on screen.
    rlw._writeToOutput = () => undefined;
  });
}

const program = new Command('cityflow-hub')
  .description('CityFlow hub: MQTT ingest, storage, prediction, rerouting, REST + WebSocket API')
  .showHelpAfterError();

program
  .command('serve')
  .description(
    'run the hub (configured by DATABASE_URL, REDIS_URL, MQTT_URL, MQTT_PORT, PORT, JWT_SECRET, NETWORK_FILE, CITYFLOW_CLOCK, ...)',
  )
  .addOption(
    new Option('--clock <mode>', 'wall or data (overrides CITYFLOW_CLOCK)').choices(['wall', 'data']),
  )
  .addHelpText(
    'after',
    `\nEnvironment (unset or empty = default; every problem is reported at once, see \`config check\`):\n${environmentHelp()}`,
  )
  .action(async (o: { clock?: 'wall' | 'data' }) => {
    const opts = optionsFromEnv();
    if (o.clock) opts.clock = o.clock;
    // Spawned with an IPC channel (the demo): when the parent dies, even by SIGKILL, the channel
    // closes and the hub stops instead of running on as an orphan (also when that happens during start).
    let parentGone = false;
    let stopNow: ((signal: string) => Promise<void>) | null = null;
    if (process.send)
      process.on('disconnect', () => {
        parentGone = true;
        void stopNow?.('disconnect');
      });
    const hub = await startHub(opts);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      hub.log.info({ signal }, 'stopping');
      await hub.stop();
      process.exit(0);
    };
    stopNow = stop;
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    if (parentGone || (process.send && !process.connected)) void stop('disconnect');
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const applied = await withDb((db) => migrate(db));
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  });

const agents = program.command('agents').description('edge agents');
agents
  .command('add <agent-id>')
  .description('create an agent and print its MQTT credentials (shown once)')
  .option('--json', 'print {"agent_id","username","password"}')
  .option('--rotate', 'if the agent exists, issue a new secret (the old one stops working)')
  .action(async (id: string, o: { json?: boolean; rotate?: boolean }) => {
    if (!isValidId(id))
      throw new CityFlowError('CF_INVALID_CONFIG', `invalid agent id ${JSON.stringify(id)}`);
    const creds = await withDb(
      async (db) => (await createAgent(db, id)) ?? (o.rotate ? rotateAgentCredentials(db, id) : null),
    );
    if (!creds)
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `agent ${id} exists already; use --rotate for new credentials`,
      );
    if (o.json) console.log(JSON.stringify(creds));
    else
      console.log(
        `agent ${creds.agent_id}\n  username: ${creds.username}\n  password: ${creds.password}\n(the password is shown once)`,
      );
  });

for (const action of ['disable', 'enable'] as const)
  agents
    .command(`${action} <agent-id>`)
    .description(
      action === 'disable'
        ? "refuse the agent's logins until enabled (its live session ends at its next login; POST /api/agents/:id/disable on a running hub ends it at once)"
        : 'let a disabled agent log in again with its current credentials',
    )
    .action(async (id: string) => {
      if (!isValidId(id))
        throw new CityFlowError('CF_INVALID_CONFIG', `invalid agent id ${JSON.stringify(id)}`);
      const found = await withDb((db) => setAgentDisabled(db, id, action === 'disable'));
      if (!found) throw new CityFlowError('CF_INVALID_CONFIG', `no agent ${id}`);
      console.log(`agent ${id} ${action}d`);
    });

const users = program.command('users').description('API users');
users
  .command('add <email>')
  .description('create a user (or reset its password and role)')
  .addOption(
    new Option('--role <role>', 'viewer, operator or admin')
      .choices(['viewer', 'operator', 'admin'])
      .makeOptionMandatory(),
  )
  .option('--password <password>', 'password (else CITYFLOW_PASSWORD, else a prompt on a terminal)')
  .action(async (email: string, o: { role: 'viewer' | 'operator' | 'admin'; password?: string }) => {
    let password = o.password ?? (process.env.CITYFLOW_PASSWORD || undefined);
    if (password === undefined) {
      if (!process.stdin.isTTY)
        throw new CityFlowError(
          'CF_INVALID_CONFIG',
          'no password: pass --password, set CITYFLOW_PASSWORD, or run on a terminal',
        );
      password = await promptHidden(`password for ${email}: `);
    }
    if (password.length < 8) throw new CityFlowError('CF_INVALID_CONFIG', 'password: at least 8 characters');
    if (!/^[^@\s]+@[^@\s]+$/.test(email))
      throw new CityFlowError('CF_INVALID_CONFIG', `invalid email ${JSON.stringify(email)}`);
    const { user, changed } = await withDb((db) => upsertUser(db, email, password!, o.role));
    if (changed) await announce(user.id, user.token_version);
    console.log(`user ${user.email} (${user.role}) ready`);
  });

users
  .command('role <email> <role>')
  .description("change a user's role (its existing tokens end at once)")
  .action(async (email: string, role: string) => {
    if (role !== 'viewer' && role !== 'operator' && role !== 'admin')
      throw new CityFlowError('CF_INVALID_CONFIG', `role: expected viewer, operator or admin, got ${role}`);
    const user = applied(await withDb((db) => setUserRole(db, email, role)));
    await announce(user.id, user.token_version);
    console.log(`user ${user.email} is now ${user.role}; its existing tokens no longer work`);
  });

users
  .command('reset-password <email>')
  .description('set a new password (its existing tokens end at once); printed once when none is given')
  .option('--password <password>', 'the new password (else CITYFLOW_PASSWORD, else a random one)')
  .action(async (email: string, o: { password?: string }) => {
    const given = o.password ?? (process.env.CITYFLOW_PASSWORD || undefined);
    if (given !== undefined && given.length < 8)
      throw new CityFlowError('CF_INVALID_CONFIG', 'password: at least 8 characters');
    const password = given ?? newUserPassword();
    const user = applied(await withDb((db) => resetUserPassword(db, email, password)));
    await announce(user.id, user.token_version);
    console.log(
      given
        ? `password of ${user.email} reset; its existing tokens no longer work`
        : `password of ${user.email} reset to: ${password}\n(shown once; its existing tokens no longer work)`,
    );
  });

users
  .command('remove <email>')
  .description('delete a user (its existing tokens end at once)')
  .action(async (email: string) => {
    const user = applied(await withDb((db) => removeUser(db, email)));
    await announce(user.id, null);
    console.log(`user ${user.email} removed`);
  });

program
  .command('mosquitto-config')
  .description(
    'write a Mosquitto password file (0600), ACL and mosquitto.conf for every agent (same rules as the embedded broker)',
  )
  .requiredOption('--out <dir>', 'directory for passwd, acl and mosquitto.conf')
  .option(
    '--hub-password <password>',
    `password of the hub's own MQTT user "${HUB_USERNAME}" (else CITYFLOW_MQTT_HUB_PASSWORD)`,
  )
  .option(
    '--hub-port <n>',
    'listener of the hub replicas (keep it inside the cluster)',
    portArg('--hub-port'),
    1883,
  )
  .option('--hub-bind <addr>', 'address of the hub listener (default: all interfaces)')
  .option('--tls-port <n>', 'agents over TLS: listener port', portArg('--tls-port'), 8883)
  .option('--tls-cert <file>', 'agents over TLS: PEM certificate of the broker')
  .option('--tls-key <file>', 'agents over TLS: PEM key of --tls-cert')
  .option('--tls-ca <file>', 'agents over TLS: PEM CA of agent client certificates (mutual TLS)')
  .option(
    '--agent-port <n>',
    'agents over plaintext (lab only; the default when no --tls-cert)',
    portArg('--agent-port'),
  )
  .action(
    async (o: {
      out: string;
      hubPassword?: string;
      hubPort: number;
      hubBind?: string;
      tlsPort: number;
      tlsCert?: string;
      tlsKey?: string;
      tlsCa?: string;
      agentPort?: number;
    }) => {
      const hubPassword = o.hubPassword ?? process.env.CITYFLOW_MQTT_HUB_PASSWORD;
      if (!hubPassword)
        throw new CityFlowError(
          'CF_INVALID_CONFIG',
          'the hub user needs a password: --hub-password or CITYFLOW_MQTT_HUB_PASSWORD',
        );
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined) || (o.tlsCa && !o.tlsCert))
        throw new CityFlowError(
          'CF_INVALID_CONFIG',
          '--tls-cert and --tls-key go together (and --tls-ca needs them)',
        );
      const listeners = {
        hub: { port: o.hubPort, bind: o.hubBind },
        agentTls: o.tlsCert ? { port: o.tlsPort, cert: o.tlsCert, key: o.tlsKey!, ca: o.tlsCa } : undefined,
        agentPlainPort: o.agentPort ?? (o.tlsCert ? undefined : 1884),
      };
      const r = await withDb((db) => writeMosquittoConfig(db, o.out, hubPassword, listeners));
      console.log(
        `wrote ${join(o.out, 'passwd')} (${r.agents} agents + ${HUB_USERNAME}), ${join(o.out, 'acl')} and ${join(o.out, 'mosquitto.conf')}`,
      );
    },
  );

registerQuarantineCommands(program, withDb, () => {
  const cfg = verbConfig();
  return { file: cfg.networkFile, clock: cfg.clock };
});
registerConfigCheck(program);

program.parseAsync(process.argv).catch(fail);
