import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { locateJsonSyntaxError } from '../cells/json-syntax-error.js';
import { MAX_MCP_SERVER_NAME_CHARS, MCP_SERVER_NAME } from '../cells/tool-protocol.js';
import { jsonKeyLine } from './json-key-line.js';

export const MCP_FILE = 'mcp.json';
const MAX_FILE_BYTES = 1024 * 1024;
export const DEFAULT_MCP_CALL_TIMEOUT_MS = 60_000;

interface McpServerBase {
  name: string;
  /** Group names, or `*` for every group. */
  groups: string[];
  /** Wall time of one tool call; a server that does not answer in it is stopped. */
  callTimeoutMs: number;
}

/** A stdio MCP server the owner listed: it runs inside the cell of each group it names. */
export interface McpCellServer extends McpServerBase {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * A remote MCP server (Streamable HTTP): the host speaks to it for each group it names, through
 * that group's egress proxy, so the group's rules, credentials, budget and audit apply.
 */
export interface McpRemoteServer extends McpServerBase {
  url: string;
}

export type McpServerConfig = McpCellServer | McpRemoteServer;

export function isRemoteServer(server: McpServerConfig): server is McpRemoteServer {
  return 'url' in server;
}

export type McpConfig = { ok: true; servers: McpServerConfig[] } | { ok: false; errors: string[] };

const text = (what: string, max: number) =>
  z
    .string({ error: `must be ${what}` })
    .min(1, `must be ${what}`)
    .max(max, `must be at most ${max} characters`);

const groupsSchema = z
  .array(text('a group name, or "*" for every group', 64), {
    error: 'must be a list of group names, e.g. ["main"] (or ["*"] for every group)',
  })
  .min(1, 'must name at least one group, e.g. ["main"] (or ["*"] for every group)');

const callTimeoutSchema = z
  .number({ error: 'must be a number of milliseconds' })
  .int('must be a whole number of milliseconds')
  .min(1000, 'must be at least 1000')
  .max(600_000, 'must be at most 600000')
  .default(DEFAULT_MCP_CALL_TIMEOUT_MS);

const objectError = {
  error: (issue: z.core.$ZodRawIssue) =>
    issue.code === 'unrecognized_keys' ? undefined : 'must be an object',
};

const serverSchema = z.strictObject(
  {
    command: text('the program to run in the cell, e.g. "node"', 4096),
    args: z
      .array(z.string({ error: 'must be a string' }).max(4096, 'must be at most 4096 characters'), {
        error: 'must be a list of strings',
      })
      .max(64, 'must list at most 64 arguments')
      .default([]),
    env: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, e.g. API_URL'),
        z.string({ error: 'must be a string' }).max(4096, 'must be at most 4096 characters'),
        { error: 'must be an object of names to string values' },
      )
      .default({}),
    groups: groupsSchema,
    callTimeoutMs: callTimeoutSchema,
  },
  objectError,
);

const remoteSchema = z.strictObject(
  {
    url: text('the server\'s https:// address, e.g. "https://mcp.example.com/mcp"', 2048).check(
      z.refine((raw) => remoteUrlProblem(raw) === undefined, {
        error: (issue) => remoteUrlProblem(String(issue.input)) ?? 'must be an https:// URL',
      }),
    ),
    groups: groupsSchema,
    callTimeoutMs: callTimeoutSchema,
  },
  objectError,
);

/** What is wrong with a remote server's address, or undefined. */
function remoteUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be a full URL, e.g. "https://mcp.example.com/mcp"';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `must be an https:// (or http://) URL, not ${url.protocol}`;
  }
  if (url.username || url.password) {
    return 'must not hold user:password: a credential goes in credentials/GROUP.json, where the egress proxy adds it and neither the model nor a cell sees it';
  }
  if (url.hash) return 'must not have a #fragment';
  return undefined;
}

const fileSchema = z.strictObject(
  {
    servers: z.record(
      z
        .string()
        .max(MAX_MCP_SERVER_NAME_CHARS, `must be at most ${MAX_MCP_SERVER_NAME_CHARS} characters`)
        .regex(
          MCP_SERVER_NAME,
          'must be lower-case letters and digits, words joined by single "_", starting with a letter (e.g. "weather" or "my_files"): it prefixes the tool names',
        ),
      // An entry with a url is a remote server; any other runs in the cell.
      z.unknown().check((ctx) => {
        const entry = ctx.value;
        const schema = isUrlEntry(entry) ? remoteSchema : serverSchema;
        const parsed = schema.safeParse(entry);
        if (parsed.success) return;
        for (const issue of parsed.error.issues) {
          ctx.issues.push({ ...issue, input: entry } as (typeof ctx.issues)[number]);
        }
      }),
      { error: 'must be an object of server names to servers' },
    ),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? undefined
        : 'must be an object like {"servers": {"NAME": {"command": "...", "groups": ["main"]}}}',
  },
);

/** Check mcp.json's text; each problem says the line, the key and what is expected there. */
export function parseMcpConfig(source: string, file = MCP_FILE): McpConfig {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    const at = locateJsonSyntaxError(source);
    return {
      ok: false,
      errors: [
        at
          ? `${file} line ${at.line}, column ${at.column}: not valid JSON: ${at.problem}`
          : `${file}: not valid JSON`,
      ],
    };
  }
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => {
        const keys =
          issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [];
        const where = keys[0] ?? issue.path;
        const shown = keyPath(where) || '(top level)';
        const message =
          issue.code === 'unrecognized_keys'
            ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; known keys: ${knownKeys(value, issue.path)}`
            : issue.code === 'invalid_key'
              ? (issue.issues[0]?.message ?? issue.message)
              : issue.message;
        return `${file} line ${jsonKeyLine(source, where)}: ${shown}: ${message}`;
      }),
    };
  }
  const servers = Object.entries(parsed.data.servers).map(([name, entry]): McpServerConfig =>
    isUrlEntry(entry)
      ? { name, ...remoteSchema.parse(entry) }
      : { name, ...serverSchema.parse(entry) },
  );
  return { ok: true, servers };
}

function isUrlEntry(entry: unknown): boolean {
  return typeof entry === 'object' && entry !== null && 'url' in entry;
}

function keyPath(keys: readonly PropertyKey[]): string {
  return keys
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`))
    .join('');
}

function knownKeys(file: unknown, at: readonly PropertyKey[]): string {
  if (at.length === 0) return 'servers';
  const entry = (file as { servers?: Record<string, unknown> }).servers?.[String(at[1])];
  const schema = isUrlEntry(entry) ? remoteSchema : serverSchema;
  return Object.keys(schema.shape).join(', ');
}

/** The owner's mcp.json in `configDir`; no file is no servers. */
export function readMcpConfig(configDir: string): McpConfig & { file: string; exists: boolean } {
  const file = path.join(configDir, MCP_FILE);
  let source: string;
  try {
    const stat = fs.statSync(file);
    if (stat.size > MAX_FILE_BYTES) {
      return {
        ok: false,
        errors: [`${file}: larger than ${MAX_FILE_BYTES} bytes; list fewer servers`],
        file,
        exists: true,
      };
    }
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { ok: true, servers: [], file, exists: false };
    }
    return {
      ok: false,
      errors: [`${file}: cannot be read (${(err as Error).message})`],
      file,
      exists: true,
    };
  }
  return { ...parseMcpConfig(source, file), file, exists: true };
}

/** The servers that run in `groupName`'s cell. */
export function serversForGroup(
  servers: readonly McpServerConfig[],
  groupName: string,
): McpServerConfig[] {
  return servers.filter((s) => s.groups.includes('*') || s.groups.includes(groupName));
}
