import fs from 'node:fs';
import path from 'node:path';
import { isSinkCall } from '../guard/tool-sink.js';
import { isRemoteServer, readMcpConfig } from '../mcp/mcp-config.js';
import { MCP_TOOL_SEPARATOR } from '../mcp/offer-tools.js';
import { decideOnResolvedPath } from '../policy/path-decision.js';
import type { PathMount } from '../fs/resolve-cell-path.js';
import { globalFolderPath, groupFolderPath } from '../groups/group-folder.js';
import { GLOBAL_MOUNT_PATH, GROUP_MOUNT_PATH } from '../tools/cell-tools.js';
import { parseArgs } from 'node:util';
import { loadPolicy } from '../policy/load-policy.js';
import { parsePolicy } from '../policy/policy-file.js';
import { knownToolNames, toolClassOf } from '../policy/rules.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';
import type { CliCommand, TextOut } from './command.js';
import type { Base } from '../app.js';

export interface CliStreams {
  stdout: TextOut;
  stderr: TextOut;
}

export interface PolicyCliDeps {
  /** The owner's policy dir (`~/.config/nanocell/policy`). */
  policyDir: string;
  /** Names of the host tools the assistant offers (send_message, ...). */
  hostTools: readonly string[];
  /** The group's role; undefined when no such group exists (yet). */
  lookupGroup: (name: string) => { isAdmin: boolean } | undefined;
  /**
   * The group's folders as its cell sees them: a path rule is judged on where a path really
   * leads (the agent's own links followed inside the folder), as the gate judges it.
   */
  mountsFor?: (groupName: string) => readonly PathMount[];
  /** The tool is a remote MCP server's (mcp.json): its input leaves the host, so it is a sink. */
  sendsOut?: (tool: string) => boolean;
  out: CliStreams;
}

export const POLICY_USAGE = `usage:
  nanocell policy check FILE
  nanocell policy explain --group NAME --tool TOOL --input JSON [--task ID] [--untrusted]
    --untrusted: as in a run that read someone else's words (when= rules, the guard)
`;

/** `nanocell policy ...`: 0 ok, 1 the policy has errors, 2 bad usage. */
export function policyCommand(args: string[], deps: PolicyCliDeps): number {
  const [sub, ...rest] = args;
  const { out } = deps;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        group: { type: 'string', short: 'g' },
        tool: { type: 'string' },
        input: { type: 'string' },
        task: { type: 'string' },
        untrusted: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    out.stderr.write(`nanocell policy: ${(err as Error).message}\n\n${POLICY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (sub === 'check' && positionals.length === 1 && positionals[0] !== undefined) {
    return policyCheck(positionals[0], { knownTools: knownToolNames(deps.hostTools), out });
  }
  if (sub === 'explain' && positionals.length === 0) {
    const missing = (['group', 'tool', 'input'] as const).filter((k) => values[k] === undefined);
    if (missing.length === 0 && values.group && values.tool && values.input !== undefined) {
      return policyExplain(
        {
          groupName: values.group,
          tool: values.tool,
          inputJson: values.input,
          taskId: values.task,
          untrusted: values.untrusted === true,
        },
        deps,
      );
    }
    out.stderr.write(
      `nanocell policy explain: missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${POLICY_USAGE}`,
    );
    return 2;
  }
  out.stderr.write(`nanocell policy: expected "check FILE" or "explain ..."\n\n${POLICY_USAGE}`);
  return 2;
}

/** Prints `FILE:LINE: message` for each error (exit 1), or `FILE: N rules, ok` (exit 0). */
export function policyCheck(
  file: string,
  deps: { knownTools?: readonly string[]; out: CliStreams },
): number {
  const { out } = deps;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    out.stderr.write(`nanocell policy: cannot read ${file}: ${(err as Error).message}\n`);
    return 2;
  }
  const parsed = parsePolicy(text, file, { knownTools: deps.knownTools });
  for (const e of parsed.errors) out.stdout.write(`${file}:${e.line}: ${e.message}\n`);
  for (const w of parsed.warnings) out.stdout.write(`${file}:${w.line}: warning: ${w.message}\n`);
  if (parsed.errors.length > 0) {
    const n = parsed.errors.length;
    out.stdout.write(`${file}: ${n} error${n === 1 ? '' : 's'}\n`);
    return 1;
  }
  const n = parsed.rules.length;
  out.stdout.write(`${file}: ${n} rule${n === 1 ? '' : 's'}, ok\n`);
  return 0;
}

export interface ExplainArgs {
  groupName: string;
  tool: string;
  /** The tool input as JSON text, exactly as the model would send it. */
  inputJson: string;
  taskId?: string;
  /** Explain as in a run labelled untrusted (src/guard). */
  untrusted?: boolean;
}

/** Prints the effect and the deciding rule (file and line) or the default that decided. */
export function policyExplain(args: ExplainArgs, deps: PolicyCliDeps): number {
  const { out } = deps;
  let input: unknown;
  try {
    input = JSON.parse(args.inputJson);
  } catch (err) {
    out.stderr.write(
      `nanocell policy: --input is not JSON (${(err as Error).message}); e.g. --input '{"command":"ls"}'\n`,
    );
    return 2;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    out.stderr.write(
      `nanocell policy: --input must be a JSON object, e.g. '{"path":"notes.md"}'\n`,
    );
    return 2;
  }
  // An MCP server's tool (SERVER__tool) is judged as the gate judges it: as a cell tool.
  const toolClass =
    toolClassOf(args.tool, deps.hostTools) ??
    (args.tool.indexOf(MCP_TOOL_SEPARATOR) > 0 ? 'cell' : undefined);
  if (!toolClass) {
    out.stderr.write(
      `nanocell policy: unknown tool "${args.tool}"; known tools: ${knownToolNames(deps.hostTools).join(', ')}\n`,
    );
    return 2;
  }
  const loaded = loadPolicy(
    deps.policyDir,
    { groupName: args.groupName, taskId: args.taskId },
    { knownTools: knownToolNames(deps.hostTools) },
  );
  if (!loaded.ok) {
    for (const e of loaded.errors) {
      const where = path.join(deps.policyDir, e.source);
      out.stdout.write(
        e.line > 0 ? `${where}:${e.line}: ${e.message}\n` : `${where}: ${e.message}\n`,
      );
    }
    out.stdout.write('the policy has errors, so every call is denied until they are fixed\n');
    return 1;
  }
  const group = deps.lookupGroup(args.groupName);
  if (!group) {
    out.stdout.write(`(no group "${args.groupName}" yet; explained as a non-admin group)\n`);
  }
  const decision = decideOnResolvedPath(
    {
      groupName: args.groupName,
      isAdmin: group?.isAdmin ?? false,
      tool: args.tool,
      toolClass,
      input: input as Record<string, unknown>,
      ...(args.untrusted ? { untrusted: true } : {}),
    },
    loaded.layers,
    (group && deps.mountsFor?.(args.groupName)) ?? [],
  );
  const rule = decision.rule
    ? `${path.join(deps.policyDir, decision.rule.source)}:${decision.rule.line}: ${decision.rule.text}`
    : `default for ${toolClass} tools`;
  const held =
    args.untrusted &&
    decision.effect === 'allow' &&
    (isSinkCall(args.tool, input as Record<string, unknown>, []) ||
      deps.sendsOut?.(args.tool) === true);
  out.stdout.write(
    held
      ? `ask\nrule: ${rule} (allows it), held by the guard\nreason: in a run that read someone else's words this call is a sink (an outbound action), so the owner is asked\n`
      : `${decision.effect}\nrule: ${rule}\nreason: ${decision.reason}\n`,
  );
  return 0;
}

/** The policy command's view of the host (the dashboard's Explain uses it too). */
export function policyDepsOf(
  base: { config: { home: string; configDir: string }; store: Base['store'] },
  out: CliStreams,
): PolicyCliDeps {
  return {
    policyDir: path.join(base.config.configDir, 'policy'),
    hostTools: HOST_TOOL_NAMES,
    lookupGroup: (name) => base.store.groups.byName(name),
    sendsOut: (tool) => remoteMcpTool(base.config.configDir, tool),
    mountsFor: (name) => {
      const group = base.store.groups.byName(name);
      if (!group) return [];
      return [
        { hostPath: groupFolderPath(base.config.home, group.folder), cellPath: GROUP_MOUNT_PATH },
        { hostPath: globalFolderPath(base.config.home), cellPath: GLOBAL_MOUNT_PATH },
      ];
    },
    out,
  };
}

export const policyCli: CliCommand = {
  name: 'policy',
  summary: 'check a policy file; explain which rule decides a call',
  usage: POLICY_USAGE,
  needs: 'store',
  run: (args, { base, out, err }) =>
    policyCommand(args, policyDepsOf(base, { stdout: out, stderr: err })),
};

/** Whether `tool` (SERVER__name) belongs to a remote server the owner lists in mcp.json. */
function remoteMcpTool(configDir: string, tool: string): boolean {
  const at = tool.indexOf(MCP_TOOL_SEPARATOR);
  if (at <= 0) return false;
  const cfg = readMcpConfig(configDir);
  return cfg.ok && cfg.servers.some((s) => s.name === tool.slice(0, at) && isRemoteServer(s));
}
