import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { AnthropicProvider } from './agent/anthropic.js';
import type { ModelProvider } from './agent/model-provider.js';
import { CellPool } from './cells/cell-pool.js';
import type { CellRuntime, CellSpec } from './cells/cell-runtime.js';
import { DockerRuntime } from './cells/docker.js';
import { allRuntimes } from './cells/runtimes.js';
import { selectRuntime } from './cells/select-runtime.js';
import type { Config } from './config.js';
import { ensureGroupFolder } from './groups/group-folder.js';
import { runGroup } from './router/group-run.js';
import { Router } from './router/router.js';
import type { Group } from './store/groups.js';
import { Store } from './store/store.js';
import { GROUP_MOUNT_PATH } from './tools/cell-tools.js';

export const ADMIN_GROUP = 'main';

/** The pieces every command shares; built once from the config. */
export interface Base {
  config: Config;
  log: Logger;
  store: Store;
  provider: ModelProvider;
  runtimes: CellRuntime[];
  installId: string;
  close(): void;
}

/** A base plus what a conversation needs: a working cell runtime and the router. */
export interface Assistant extends Base {
  pool: CellPool;
  router: Router;
  /** The owner's admin group, created with its folder on first run. */
  adminGroup: Group;
  shutdown(): Promise<void>;
}

export function openBase(config: Config): Base {
  fs.mkdirSync(config.home, { recursive: true, mode: 0o700 });
  const logDir = path.join(config.home, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const log = pino(
    { level: config.logLevel, base: { pid: process.pid } },
    pino.destination({ dest: path.join(logDir, 'nanocell.log'), sync: true }),
  );
  const store = Store.open(path.join(config.home, 'nanocell.db'));
  const installId = readInstallId(config.home);
  const provider = new AnthropicProvider({
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    model: config.model,
    timeoutMs: config.modelTimeoutMs,
    maxRetries: config.modelMaxRetries,
  });
  const runtimes = allRuntimes(config, installId);
  return { config, log, store, provider, runtimes, installId, close: () => store.close() };
}

export async function openAssistant(base: Base): Promise<Assistant> {
  const { config, store, log } = base;
  const runtime = await selectRuntime(config.runtime, base.runtimes);
  if (runtime instanceof DockerRuntime) {
    const removed = runtime.removeOrphans();
    if (removed > 0) log.warn({ removed }, 'removed orphaned cells');
  }
  const adminGroup = ensureAdminGroup(base);
  const pool = new CellPool(runtime, config.cellIdleMs, log);
  const cellSpec = (group: Group): CellSpec => ({
    groupName: group.name,
    mounts: [
      {
        hostPath: ensureGroupFolder(config.home, group.folder, config.assistantName),
        cellPath: GROUP_MOUNT_PATH,
        readOnly: false,
      },
    ],
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/cell',
      LANG: 'C.UTF-8',
      TZ: config.timezone,
    },
    workdir: GROUP_MOUNT_PATH,
    toolServerPath: config.toolServerPath,
    limits: {
      memoryMb: 1024,
      pids: 256,
      cpus: 1,
      callTimeoutMs: config.toolTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
    },
    network: { mode: 'none' },
  });
  const router = new Router(
    store,
    (groupId) =>
      runGroup(
        {
          store,
          provider: base.provider,
          pool,
          cellSpec,
          log,
          settings: {
            home: config.home,
            assistantName: config.assistantName,
            timezone: config.timezone,
            maxTokens: config.maxTokens,
            maxToolRounds: config.maxToolRounds,
          },
        },
        groupId,
      ),
    log,
  );
  log.info({ runtime: runtime.name, home: config.home }, 'assistant ready');
  return {
    ...base,
    pool,
    router,
    adminGroup,
    shutdown: async () => {
      await pool.stopAll();
      base.close();
    },
  };
}

/** The admin group and its terminal chat exist from the first run on. */
function ensureAdminGroup(base: Base): Group {
  const { store, config } = base;
  const group = store.groups.admin() ?? store.groups.create({ name: ADMIN_GROUP, isAdmin: true });
  ensureGroupFolder(config.home, group.folder, config.assistantName);
  if (!store.groups.forChat('terminal', group.name))
    store.groups.bindChat('terminal', group.name, group.id);
  return group;
}

/** The terminal chat for a group; the owner at the terminal may open any group's chat. */
export function terminalChatFor(base: Base, groupName: string): Group {
  const { store, config } = base;
  const group =
    store.groups.byName(groupName) ?? store.groups.create({ name: groupName, isAdmin: false });
  ensureGroupFolder(config.home, group.folder, config.assistantName);
  if (!store.groups.forChat('terminal', group.name))
    store.groups.bindChat('terminal', group.name, group.id);
  return group;
}

function readInstallId(home: string): string {
  const file = path.join(home, 'install-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = crypto.randomBytes(6).toString('hex');
    fs.writeFileSync(file, `${id}\n`, { mode: 0o600 });
    return id;
  }
}
