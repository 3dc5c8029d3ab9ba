import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseGroupCellImages } from './cells/group-cell-images.js';
import { MAX_CONFIG_FILE_BYTES, parseConfigFile, type ConfigFileEntry } from './config-file.js';
import { DEFAULT_BRAVE_URL, type WebSearchConfig } from './tools/web-search-providers.js';
import { knownTimeZone, systemTimeZone } from './time-zone-name.js';

/**
 * The repository root: where `dist/`, `build/cell-rootfs` and the tool server live: the
 * nearest folder up from this module with a package.json (nothing below the root has one), so
 * it is the same from `src/` (tests), `dist/` (tsc) and `dist/bundle/` (the CLI bundle).
 */
export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

const RUNTIMES = [
  'auto',
  'bwrap',
  'docker',
  'podman',
  'gvisor',
  'apple-container',
  'docker-sandboxes',
] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];

export const PROVIDERS = ['anthropic', 'openai'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A mail server URL with its login, in one of `schemes`; `example` shows the form. */
const mailUrl = (schemes: string[], example: string) =>
  z.string().refine(
    (text) => {
      try {
        const url = new URL(text);
        return schemes.includes(url.protocol.replace(/:$/, '')) && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: `must be a ${schemes.join(' or ')} URL with the login, e.g. ${example}` },
  );

const envSchema = z.object({
  ANTHROPIC_API_KEY: z.string().min(1, 'is empty').optional(),
  ANTHROPIC_BASE_URL: z
    .url({ message: 'must be a URL such as https://api.anthropic.com' })
    .default('https://api.anthropic.com'),
  NANOCELL_PROVIDER: z
    .enum(PROVIDERS, { message: `must be one of ${PROVIDERS.join(', ')}` })
    .default('anthropic'),
  OPENAI_API_KEY: z.string().min(1, 'is empty').optional(),
  OPENAI_BASE_URL: z
    .url({
      protocol: /^https?$/,
      message: 'must be an http(s) URL such as http://127.0.0.1:11434/v1 (Ollama)',
    })
    .default('https://api.openai.com/v1'),
  NANOCELL_MODEL: z.string().min(1, 'is empty').optional(),
  NANOCELL_FALLBACK_MODEL: z.string().min(1, 'is empty').optional(),
  NANOCELL_PROMPT_CACHE: z
    .enum(['on', 'off'], { message: 'must be "on" (cache the prompt\'s start) or "off"' })
    .default('on'),
  NANOCELL_ASSISTANT_NAME: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'must be one word of letters, digits, - or _')
    .default('Andy'),
  NANOCELL_HOME: z.string().min(1).optional(),
  NANOCELL_RUNTIME: z
    .enum(RUNTIMES, { message: `must be one of ${RUNTIMES.join(', ')}` })
    .default('auto'),
  NANOCELL_MODEL_TIMEOUT_MS: positiveInt(120_000),
  NANOCELL_MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
  NANOCELL_MAX_TOKENS: positiveInt(4096),
  NANOCELL_MAX_TOOL_ROUNDS: positiveInt(25),
  NANOCELL_TOOL_TIMEOUT_MS: positiveInt(60_000),
  NANOCELL_MAX_OUTPUT_BYTES: positiveInt(30_000),
  NANOCELL_MAX_REPLY_CHARS: z.coerce
    .number()
    .int()
    .min(1000, 'must be at least 1000')
    .default(100_000),
  NANOCELL_MAX_FILE_MB: positiveInt(1024),
  // Off when unset. At least 8 MiB: below that ext4 has no room for its own metadata.
  NANOCELL_GROUP_QUOTA_MB: z.coerce
    .number()
    .int()
    .min(8, 'must be at least 8 (MiB), or unset for no quota')
    .max(16 * 1024 * 1024)
    .optional(),
  NANOCELL_CELL_IDLE_MS: positiveInt(120_000),
  NANOCELL_GUARD: z
    .enum(['on', 'off'], {
      message: 'must be "on" or "off" (off only to measure what the guard stops: bench/injection)',
    })
    .default('on'),
  NANOCELL_CELL_REUSE: z
    .enum(['run', 'group'], { message: 'must be "run" (a fresh cell per run) or "group"' })
    .default('run'),
  // Default: the versioned tag this checkout's scripts/build-cell-image.sh built (see below).
  NANOCELL_CELL_IMAGE: z.string().min(1).optional(),
  NANOCELL_MAX_LIVE_CELLS: positiveInt(4),
  NANOCELL_MAX_CONCURRENT_RUNS: positiveInt(3),
  NANOCELL_RUN_SLOT_LEASE_MS: positiveInt(120_000),
  NANOCELL_RUN_MAX_ATTEMPTS: positiveInt(4),
  NANOCELL_RUN_RETRY_BASE_MS: positiveInt(2000),
  NANOCELL_HISTORY_BUDGET_TOKENS: positiveInt(40_000),
  NANOCELL_WEB_PORT: z.coerce.number().int().min(0).max(65535).default(7420),
  NANOCELL_WEB_PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, {
      message: 'use a base URL like https://chat.example.org (scheme and host, no path)',
    })
    .optional(),
  NANOCELL_WEB_STREAM: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  // Unset: no web_search tool. The key is not a setting: the egress proxy adds it.
  NANOCELL_WEB_SEARCH: z
    .enum(['brave', 'searxng'], {
      message: 'must be brave or searxng (or unset to offer no web_search tool)',
    })
    .optional(),
  NANOCELL_WEB_SEARCH_URL: z
    .string()
    .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?$/, {
      message:
        'use a base URL like https://search.example.org (scheme, host and an optional path; no query)',
    })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  NANOCELL_CONFIG_DIR: z.string().min(1).optional(),
  NANOCELL_SCHEDULER_TICK_MS: positiveInt(10_000),
  NANOCELL_BUDGET_TOOL_CALLS: positiveInt(100),
  NANOCELL_BUDGET_MODEL_TOKENS: positiveInt(2_000_000),
  NANOCELL_BUDGET_WALL_MS: positiveInt(30 * 60_000),
  NANOCELL_BUDGET_EGRESS_REQUESTS: positiveInt(200),
  NANOCELL_APPROVAL_TTL_MS: positiveInt(10 * 60_000),
  NANOCELL_MISSED_RUNS: z
    .enum(['run-once', 'skip'], { message: 'must be run-once or skip' })
    .default('run-once'),
  NANOCELL_CELL_ROOTFS: z.string().min(1).optional(),
  NANOCELL_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  NANOCELL_MAX_TASKS_PER_GROUP: positiveInt(50),
  NANOCELL_MAX_TASKS_PER_RUN: positiveInt(10),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'must be the token @BotFather gave, e.g. 123456:ABC-DEF...')
    .optional(),
  TELEGRAM_API_ROOT: z
    .url({ message: 'must be a URL such as https://api.telegram.org' })
    .default('https://api.telegram.org'),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-...)').optional(),
  SLACK_APP_TOKEN: z
    .string()
    .startsWith('xapp-', 'must be an app-level token with connections:write (xapp-...)')
    .optional(),
  SLACK_API_URL: z
    .url({ message: 'must be a URL such as https://slack.com/api/' })
    .default('https://slack.com/api/'),
  DISCORD_BOT_TOKEN: z.string().min(1, 'is empty').optional(),
  EMAIL_IMAP_URL: mailUrl(
    ['imap', 'imaps'],
    'imaps://USER:PASSWORD@imap.example.com:993',
  ).optional(),
  EMAIL_SMTP_URL: mailUrl(
    ['smtp', 'smtps'],
    'smtps://USER:PASSWORD@smtp.example.com:465',
  ).optional(),
  EMAIL_ADDRESS: z
    .email({ message: 'must be an email address, e.g. assistant@example.com' })
    .optional(),
  EMAIL_ALLOWED_SENDERS: z
    .string()
    .optional()
    .transform((list, ctx) => {
      const addresses = (list ?? '')
        .split(',')
        .map((a) => a.trim().toLowerCase())
        .filter(Boolean);
      for (const a of addresses) {
        if (!/^[^@\s]+@[^@\s]+$/.test(a)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${a.slice(0, 60)}" is not an email address; write a comma-separated list such as me@example.com,partner@example.com`,
          });
        }
      }
      return addresses;
    }),
  EMAIL_POLL_SECONDS: positiveInt(30),
  NANOCELL_MAX_ATTACHMENT_MB: positiveInt(20),
  NANOCELL_TRANSCRIBE_COMMAND: z.string().trim().min(1, 'is empty').optional(),
  NANOCELL_TRANSCRIBE_TIMEOUT_MS: positiveInt(120_000),
  DISCORD_API_URL: z
    .url({ message: 'must be a URL such as https://discord.com/api' })
    .default('https://discord.com/api'),
  TZ: z
    .string()
    .optional()
    .transform((tz, ctx) => {
      if (tz === undefined) return undefined;
      const canonical = knownTimeZone(tz);
      if (canonical === undefined) {
        ctx.addIssue({
          code: 'custom',
          message:
            'is not a time zone this system knows; use an IANA name such as TZ=Europe/Berlin or TZ=UTC (or unset it to use the system zone)',
        });
        return z.NEVER;
      }
      return canonical;
    }),
});

export interface Config {
  /** Which model API: the Anthropic Messages API or an OpenAI-compatible one. */
  provider: ProviderName;
  /** The Anthropic API key and base URL. */
  apiKey: string | undefined;
  baseUrl: string;
  /** An OpenAI-compatible API: the key is optional (local servers need none). */
  openai: { apiKey: string | undefined; baseUrl: string };
  model: string;
  /** Tried when the model fails with a retryable error after its retries; same provider. */
  fallbackModel: string | undefined;
  /** Mark the system prompt, tools and older history for the model API's prompt cache. */
  promptCache: boolean;
  assistantName: string;
  /** Data dir: database, group folders, logs. */
  home: string;
  runtime: RuntimeChoice;
  modelTimeoutMs: number;
  modelMaxRetries: number;
  maxTokens: number;
  maxToolRounds: number;
  toolTimeoutMs: number;
  maxOutputBytes: number;
  /** A longer reply (or history text) is cut with a note. */
  maxReplyChars: number;
  /** Largest file one command in a cell may write. */
  maxFileMb: number;
  /** Per-group disk quota in MiB (a loop-mounted ext4 image per group folder); off when unset. */
  groupQuotaMb: number | undefined;
  cellIdleMs: number;
  /** `run`: a fresh cell for every run (a spare is started ahead); `group`: reused while warm. */
  cellReuse: 'run' | 'group';
  /** NANOCELL_GUARD: the data-flow guard (src/guard); off only to measure it. */
  guard: boolean;
  cellImage: string;
  maxLiveCells: number;
  /** NANOCELL_RUN_SLOT_LEASE_MS: a run holding its slot longer lets a waiting group go. */
  runSlotLeaseMs: number;
  maxConcurrentRuns: number;
  runMaxAttempts: number;
  runRetryBaseMs: number;
  historyBudgetTokens: number;
  /** Local web chat port on 127.0.0.1 (0: any free port). */
  webPort: number;
  /** The web chat's public base URL (a reverse proxy's name), answered besides loopback. */
  webPublicUrl?: string;
  /** Replies stream into the web chat (previews edited in place) as on the chat platforms. */
  webStream: boolean;
  /** The owner's config dir (policy, mount allowlist): never mounted into a cell. */
  configDir: string;
  missedRuns: 'run-once' | 'skip';
  schedulerTickMs: number;
  /** Limits of one run: a message turn or a task run. */
  budget: { toolCalls: number; modelTokens: number; wallTimeMs: number; egressRequests: number };
  approvalTtlMs: number;
  /** Root filesystem that bwrap cells see as `/` (built by scripts/build-cell-image.sh). */
  cellRootfs: string;
  /**
   * Groups with their own cell (the packages the owner listed in cell-packages/GROUP), from
   * build/cell-groups.json; only where the base rootfs or image is the built default.
   */
  cellGroupImages: Record<string, { rootfs?: string; image?: string }>;
  /** The tool server script, mounted read-only into every cell. */
  toolServerPath: string;
  logLevel: string;
  timezone: string;
  /** Active or paused tasks one group may have (the admin group's own tasks too). */
  maxTasksPerGroup: number;
  /** Tasks one run (a message turn or a task run) may create. */
  maxTasksPerRun: number;
  /** Each chat platform's credentials; a channel whose credentials are absent is off. */
  channels: ChannelCredentials;
  /** Files in and out of chats (src/media, the send_file tool). */
  media: MediaConfig;
  /** NANOCELL_WEB_SEARCH (+ _URL): the web_search tool's provider; undefined: no such tool. */
  webSearch: WebSearchConfig | undefined;
}

export interface MediaConfig {
  /** NANOCELL_MAX_ATTACHMENT_MB: the largest document or voice note kept, or file sent. */
  maxAttachmentBytes: number;
  /** NANOCELL_TRANSCRIBE_COMMAND: run with a voice note's path, prints its text; unset: off. */
  transcribeCommand: string | undefined;
  transcribeTimeoutMs: number;
}

export interface ChannelCredentials {
  telegram: { botToken: string | undefined; apiRoot: string };
  /** `apiUrl`: the Web API base, ending in `/` (a test points it at a fake). */
  slack: { botToken: string | undefined; appToken: string | undefined; apiUrl: string };
  /** `apiUrl`: the REST base without the version; the gateway's URL comes from it. */
  discord: { botToken: string | undefined; apiUrl: string };
  /**
   * One mailbox: IMAP to read, SMTP to send, both URLs carry the login. Only mail from
   * `allowedSenders` is answered; the inbox is polled every `pollSeconds` (IDLE meanwhile).
   */
  email: {
    imapUrl: string | undefined;
    smtpUrl: string | undefined;
    address: string | undefined;
    allowedSenders: string[];
    pollSeconds: number;
  };
  /** WhatsApp's linked-device keys live here (made by `nanocell whatsapp link`). */
  whatsapp: { authDir: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parse the environment once, at start-up. The only reader of process.env in the code base:
 * everything else receives the Config it returns. Throws ConfigError listing every problem.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  readFile: ReadTextFile = readTextFile,
): Config {
  const { merged, file } = mergedSettings(env, readFile);
  if (file.problems.length) throw new ConfigError(file.problems);
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const entry = env[key] === undefined ? file.entries.get(key) : undefined;
        return `${key}${entry ? ` (${file.path} line ${entry.line})` : ''}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const groupImages = parseGroupCellImages(
    readFile(BUILT_GROUP_IMAGES_FILE),
    BUILT_GROUP_IMAGES_FILE,
  );
  if (!groupImages.ok) throw new ConfigError([groupImages.problem]);
  if (e.NANOCELL_PROVIDER === 'openai' && e.NANOCELL_MODEL === undefined) {
    throw new ConfigError([
      "NANOCELL_MODEL: must be set with NANOCELL_PROVIDER=openai (the server's model name, e.g. llama3.2 on Ollama or gpt-4.1 on OpenAI)",
    ]);
  }
  // As root, the data dir must not sit under /root (0700): cells run as uid 10001 and bwrap
  // needs to traverse the folders above each mount.
  const defaultHome =
    process.getuid?.() === 0 ? '/var/lib/nanocell' : path.join(os.homedir(), '.nanocell');
  const home = path.resolve(e.NANOCELL_HOME ?? defaultHome);
  const configDir = path.resolve(
    e.NANOCELL_CONFIG_DIR ?? path.join(os.homedir(), '.config', 'nanocell'),
  );
  const overlap = dirOverlap(home, configDir);
  if (overlap) throw new ConfigError([overlap]);
  if ((e.SLACK_BOT_TOKEN === undefined) !== (e.SLACK_APP_TOKEN === undefined)) {
    throw new ConfigError([
      `${e.SLACK_BOT_TOKEN ? 'SLACK_APP_TOKEN' : 'SLACK_BOT_TOKEN'}: is not set; Slack needs both SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-...), or neither to leave it off`,
    ]);
  }
  if (e.NANOCELL_WEB_SEARCH === 'searxng' && e.NANOCELL_WEB_SEARCH_URL === undefined) {
    throw new ConfigError([
      'NANOCELL_WEB_SEARCH_URL: must be set with NANOCELL_WEB_SEARCH=searxng (the base URL of the SearXNG instance, e.g. https://search.example.org)',
    ]);
  }
  const mail = {
    EMAIL_IMAP_URL: e.EMAIL_IMAP_URL,
    EMAIL_SMTP_URL: e.EMAIL_SMTP_URL,
    EMAIL_ADDRESS: e.EMAIL_ADDRESS,
  };
  const mailSet = Object.entries(mail).filter(([, v]) => v !== undefined);
  if (mailSet.length > 0 && mailSet.length < 3) {
    const missing = Object.keys(mail).filter((k) => mail[k as keyof typeof mail] === undefined);
    throw new ConfigError([
      `${missing.join(', ')}: not set; email needs EMAIL_IMAP_URL, EMAIL_SMTP_URL and EMAIL_ADDRESS, or none of them to leave it off`,
    ]);
  }
  return {
    provider: e.NANOCELL_PROVIDER,
    apiKey: e.ANTHROPIC_API_KEY,
    baseUrl: e.ANTHROPIC_BASE_URL.replace(/\/+$/, ''),
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL.replace(/\/+$/, '') },
    model: e.NANOCELL_MODEL ?? DEFAULT_ANTHROPIC_MODEL,
    fallbackModel: e.NANOCELL_FALLBACK_MODEL,
    promptCache: e.NANOCELL_PROMPT_CACHE === 'on',
    assistantName: e.NANOCELL_ASSISTANT_NAME,
    home,
    runtime: e.NANOCELL_RUNTIME,
    modelTimeoutMs: e.NANOCELL_MODEL_TIMEOUT_MS,
    modelMaxRetries: e.NANOCELL_MODEL_MAX_RETRIES,
    maxTokens: e.NANOCELL_MAX_TOKENS,
    maxToolRounds: e.NANOCELL_MAX_TOOL_ROUNDS,
    toolTimeoutMs: e.NANOCELL_TOOL_TIMEOUT_MS,
    maxOutputBytes: e.NANOCELL_MAX_OUTPUT_BYTES,
    maxReplyChars: e.NANOCELL_MAX_REPLY_CHARS,
    maxFileMb: e.NANOCELL_MAX_FILE_MB,
    groupQuotaMb: e.NANOCELL_GROUP_QUOTA_MB,
    cellIdleMs: e.NANOCELL_CELL_IDLE_MS,
    cellReuse: e.NANOCELL_CELL_REUSE,
    guard: e.NANOCELL_GUARD === 'on',
    cellImage: e.NANOCELL_CELL_IMAGE ?? builtCellImage(readFile),
    maxLiveCells: e.NANOCELL_MAX_LIVE_CELLS,
    maxConcurrentRuns: e.NANOCELL_MAX_CONCURRENT_RUNS,
    runSlotLeaseMs: e.NANOCELL_RUN_SLOT_LEASE_MS,
    runMaxAttempts: e.NANOCELL_RUN_MAX_ATTEMPTS,
    runRetryBaseMs: e.NANOCELL_RUN_RETRY_BASE_MS,
    historyBudgetTokens: e.NANOCELL_HISTORY_BUDGET_TOKENS,
    webPort: e.NANOCELL_WEB_PORT,
    ...(e.NANOCELL_WEB_PUBLIC_URL ? { webPublicUrl: e.NANOCELL_WEB_PUBLIC_URL } : {}),
    webStream: e.NANOCELL_WEB_STREAM === 'on',
    configDir,
    missedRuns: e.NANOCELL_MISSED_RUNS,
    schedulerTickMs: e.NANOCELL_SCHEDULER_TICK_MS,
    budget: {
      toolCalls: e.NANOCELL_BUDGET_TOOL_CALLS,
      modelTokens: e.NANOCELL_BUDGET_MODEL_TOKENS,
      wallTimeMs: e.NANOCELL_BUDGET_WALL_MS,
      egressRequests: e.NANOCELL_BUDGET_EGRESS_REQUESTS,
    },
    approvalTtlMs: e.NANOCELL_APPROVAL_TTL_MS,
    cellRootfs: path.resolve(
      e.NANOCELL_CELL_ROOTFS ?? path.join(PROJECT_ROOT, 'build', 'cell-rootfs'),
    ),
    // A group's own cell is built on this checkout's base: not on a configured other one.
    cellGroupImages: Object.fromEntries(
      Object.entries(groupImages.groups).map(([name, g]) => [
        name,
        {
          ...(e.NANOCELL_CELL_ROOTFS === undefined ? { rootfs: g.rootfs } : {}),
          ...(e.NANOCELL_CELL_IMAGE === undefined ? { image: g.image } : {}),
        },
      ]),
    ),
    toolServerPath: path.join(PROJECT_ROOT, 'dist', 'cells', 'tool-server.js'),
    logLevel: e.NANOCELL_LOG_LEVEL,
    timezone: e.TZ ?? systemTimeZone(),
    maxTasksPerGroup: e.NANOCELL_MAX_TASKS_PER_GROUP,
    maxTasksPerRun: e.NANOCELL_MAX_TASKS_PER_RUN,
    channels: {
      telegram: {
        botToken: e.TELEGRAM_BOT_TOKEN,
        apiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      },
      slack: {
        botToken: e.SLACK_BOT_TOKEN,
        appToken: e.SLACK_APP_TOKEN,
        apiUrl: e.SLACK_API_URL.replace(/\/*$/, '/'),
      },
      discord: { botToken: e.DISCORD_BOT_TOKEN, apiUrl: e.DISCORD_API_URL.replace(/\/+$/, '') },
      email: {
        imapUrl: e.EMAIL_IMAP_URL,
        smtpUrl: e.EMAIL_SMTP_URL,
        address: e.EMAIL_ADDRESS?.toLowerCase(),
        allowedSenders: e.EMAIL_ALLOWED_SENDERS,
        pollSeconds: e.EMAIL_POLL_SECONDS,
      },
      whatsapp: { authDir: path.join(configDir, 'whatsapp') },
    },
    media: {
      maxAttachmentBytes: e.NANOCELL_MAX_ATTACHMENT_MB * 1024 * 1024,
      transcribeCommand: e.NANOCELL_TRANSCRIBE_COMMAND,
      transcribeTimeoutMs: e.NANOCELL_TRANSCRIBE_TIMEOUT_MS,
    },
    webSearch: e.NANOCELL_WEB_SEARCH
      ? {
          provider: e.NANOCELL_WEB_SEARCH,
          baseUrl: e.NANOCELL_WEB_SEARCH_URL ?? DEFAULT_BRAVE_URL,
        }
      : undefined,
  };
}

/**
 * The config dir holds policy, credentials and the audit key; the data dir holds what cells
 * can mount (group folders). Nested either way, a cell could reach the owner's secrets, or
 * the owner's files would sit in a tree nanocell hands out.
 */
function dirOverlap(home: string, configDir: string): string | undefined {
  const h = realOrResolved(home);
  const c = realOrResolved(configDir);
  const within = (inner: string, outer: string) => {
    const rel = path.relative(outer, inner);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  if (within(c, h)) {
    return `NANOCELL_CONFIG_DIR (${c}) is inside NANOCELL_HOME (${h}), the data dir whose folders cells mount; move it outside, e.g. NANOCELL_CONFIG_DIR=~/.config/nanocell`;
  }
  if (within(h, c)) {
    return `NANOCELL_HOME (${h}) is inside NANOCELL_CONFIG_DIR (${c}), which holds policy and credentials; move the data dir outside it, e.g. NANOCELL_HOME=~/.nanocell`;
  }
  return undefined;
}

/** The real path of the deepest existing ancestor, so a symlink cannot hide an overlap. */
function realOrResolved(p: string): string {
  const rest: string[] = [];
  let dir = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(dir), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Unreadable or looping: compare the paths as written.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return path.resolve(p);
      const parent = path.dirname(dir);
      if (parent === dir) return path.resolve(p);
      rest.push(path.basename(dir));
      dir = parent;
    }
  }
}

/** Reads a small text file; undefined when it does not exist. */
export type ReadTextFile = (file: string) => string | undefined;

/** The reader loadConfig uses: no symlink followed, at most MAX_CONFIG_FILE_BYTES. */
export const configFileReader: ReadTextFile = (file) => readTextFile(file);

function readTextFile(file: string): string | undefined {
  let fd: number;
  try {
    // The owner's own files, but still bounded: a config file is a short list of settings.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([
      `${file} cannot be read (${(err as NodeJS.ErrnoException).code}): make it a regular file the owner can read`,
    ]);
  }
  try {
    const buf = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One environment variable the owner named on the command line (`setup --api-key-env VAR`),
 * so a secret reaches the config file without appearing in the process list.
 */
export function environmentValue(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return env[name];
}

/** Every setting the environment (and so the config file) takes, in schema order. */
export const SETTING_KEYS: readonly string[] = Object.keys(envSchema.shape);

/** Settings shown masked by `config show`: they unlock accounts. */
export function isSecretSetting(key: string): boolean {
  // The mail URLs carry the mailbox's login.
  return /(KEY|TOKEN|SECRET|PASSWORD)$/.test(key) || /^EMAIL_(IMAP|SMTP)_URL$/.test(key);
}

const REFUSED_IN_FILE = new Map([
  [
    'NANOCELL_CONFIG_DIR',
    'cannot be set in the config file that lives in it; set it in the environment',
  ],
]);

/** The owner's config file: `NANOCELL_CONFIG_DIR/config` (`~/.config/nanocell/config`). */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.NANOCELL_CONFIG_DIR || path.join(os.homedir(), '.config', 'nanocell');
  return path.join(path.resolve(dir), 'config');
}

interface FileSettings {
  path: string;
  entries: Map<string, ConfigFileEntry>;
  problems: string[];
}

function mergedSettings(
  env: NodeJS.ProcessEnv,
  readFile: ReadTextFile,
): { merged: Record<string, string | undefined>; file: FileSettings } {
  const file = configFilePath(env);
  const text = readFile(file);
  const parsed = parseConfigFile(text ?? '', SETTING_KEYS, REFUSED_IN_FILE);
  const problems = parsed.problems.map((p) => `${file} ${p}`);
  const merged: Record<string, string | undefined> = {};
  for (const [key, entry] of parsed.entries) merged[key] = entry.value;
  // The environment wins over the file.
  for (const key of SETTING_KEYS) if (env[key] !== undefined) merged[key] = env[key];
  return { merged, file: { path: file, entries: parsed.entries, problems } };
}

export interface SettingView {
  key: string;
  /** The effective value as text; undefined when unset and without a default. */
  value: string | undefined;
  source: 'environment' | 'file' | 'default';
  secret: boolean;
}

/** Each setting's effective value and where it came from, for `nanocell config`. */
export function describeSettings(
  env: NodeJS.ProcessEnv = process.env,
  readFile: ReadTextFile = readTextFile,
): { file: string; settings: SettingView[]; problems: string[] } {
  const { merged, file } = mergedSettings(env, readFile);
  const settings = SETTING_KEYS.map((key): SettingView => {
    const secret = isSecretSetting(key);
    if (env[key] !== undefined) return { key, value: env[key], source: 'environment', secret };
    const entry = file.entries.get(key);
    if (entry) return { key, value: entry.value, source: 'file', secret };
    const fallback = key === 'NANOCELL_CELL_IMAGE' ? builtCellImage(readFile) : defaultOf(key);
    return { key, value: fallback, source: 'default', secret };
  });
  const problems = [...file.problems];
  for (const key of SETTING_KEYS) {
    const problem = merged[key] === undefined ? undefined : checkSetting(key, merged[key]);
    if (problem) problems.push(problem);
  }
  return { file: file.path, settings, problems };
}

/** What is wrong with one setting's value (by the same schema start-up uses), or undefined. */
export function checkSetting(key: string, value: string): string | undefined {
  const shape = envSchema.shape as Record<string, z.ZodType>;
  const schema = shape[key];
  if (!schema) return `${key} is not a nanocell setting; see README.md (Configuration)`;
  const result = schema.safeParse(value);
  return result.success ? undefined : `${key}: ${result.error.issues[0]?.message ?? 'is invalid'}`;
}

/** A setting's default as text (`setup` asks only for what has none); undefined when it has none. */
export function settingDefault(key: string): string | undefined {
  return defaultOf(key);
}

function defaultOf(key: string): string | undefined {
  const shape = envSchema.shape as Record<string, z.ZodType>;
  const result = shape[key]?.safeParse(undefined);
  return result?.success && result.data !== undefined ? String(result.data) : undefined;
}

/** Written by scripts/build-cell-image.sh: the image tag (a content hash) it built. */
export const BUILT_IMAGE_FILE = path.join(PROJECT_ROOT, 'build', 'cell-image.tag');
/** Written by scripts/build-cell-image.sh: each group's own rootfs and image, if any. */
export const BUILT_GROUP_IMAGES_FILE = path.join(PROJECT_ROOT, 'build', 'cell-groups.json');

/**
 * The cell image when none is configured: the versioned tag this checkout built, so two
 * checkouts on one machine each run their own image; `latest` only before any build.
 */
function builtCellImage(readFile: ReadTextFile): string {
  const tag = readFile(BUILT_IMAGE_FILE)?.trim();
  return tag && /^nanocell-cell:[0-9a-f]{12}$/.test(tag) ? tag : 'nanocell-cell:latest';
}
