import type { ToolDefinition } from '../agent/model-provider.js';

/** What a model API accepts as a tool name; policy rules need the lower-case form. */
const MAX_OFFERED_NAME_CHARS = 64;
const SERVER_TOOL_NAME = /^[A-Za-z0-9_-]+$/;
export const MAX_TOOLS_PER_SERVER = 64;
const MAX_DESCRIPTION_CHARS = 1024;
const MAX_SCHEMA_BYTES = 32 * 1024;
/** Between the server's name and its tool's in the name the model and policy rules see. */
export const MCP_TOOL_SEPARATOR = '__';

/** One MCP tool as the run offers it: the model's name for it and the server's. */
export interface OfferedTool {
  server: string;
  /** The server's own name for the tool. */
  toolName: string;
  definition: ToolDefinition;
}

/**
 * The tools a server listed that the model may be offered, as `SERVER__tool` (lower case, `-`
 * as `_`, so a policy rule can name it). The list is the server's word, so nothing in it is
 * trusted: a tool with a bad or clashing name, an input schema that is not a JSON object schema,
 * or one too large, is dropped, and `dropped` says why, for the owner.
 */
export function offerTools(
  server: string,
  listed: readonly unknown[],
): { tools: OfferedTool[]; dropped: string[] } {
  const tools: OfferedTool[] = [];
  const dropped: string[] = [];
  const taken = new Set<string>();
  for (const [index, raw] of listed.entries()) {
    const tool = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const shown =
      typeof tool.name === 'string' ? JSON.stringify(tool.name.slice(0, 80)) : `#${index}`;
    const drop = (why: string) => dropped.push(`tool ${shown}: ${why}`);
    if (tools.length >= MAX_TOOLS_PER_SERVER) {
      dropped.push(
        `${listed.length - index} more tools: a server may offer at most ${MAX_TOOLS_PER_SERVER}`,
      );
      break;
    }
    if (typeof tool.name !== 'string' || !SERVER_TOOL_NAME.test(tool.name)) {
      drop('its name must be letters, digits, "_" and "-"');
      continue;
    }
    const name = `${server}${MCP_TOOL_SEPARATOR}${tool.name.toLowerCase().replaceAll('-', '_')}`;
    if (name.length > MAX_OFFERED_NAME_CHARS) {
      drop(`${name} is longer than ${MAX_OFFERED_NAME_CHARS} characters`);
      continue;
    }
    if (taken.has(name)) {
      drop(`it clashes with another tool offered as ${name}`);
      continue;
    }
    const schema = objectSchema(tool.inputSchema);
    if (typeof schema === 'string') {
      drop(schema);
      continue;
    }
    taken.add(name);
    const description = typeof tool.description === 'string' ? clean(tool.description) : '';
    tools.push({
      server,
      toolName: tool.name,
      definition: {
        name,
        description: `[MCP server ${server}] ${description}`.trim(),
        input_schema: schema,
      },
    });
  }
  return { tools, dropped };
}

/** The tool's input schema as a model API takes it, or why it cannot be offered. */
function objectSchema(value: unknown): ToolDefinition['input_schema'] | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'its inputSchema is not a JSON Schema object';
  }
  const schema = value as Record<string, unknown>;
  if (schema.type !== 'object')
    return 'its inputSchema does not describe an object (type "object")';
  const { properties = {}, required } = schema;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    return 'its inputSchema has properties that are not an object';
  }
  if (
    required !== undefined &&
    !(Array.isArray(required) && required.every((r) => typeof r === 'string'))
  ) {
    return 'its inputSchema has a "required" that is not a list of names';
  }
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(schema));
  } catch {
    return 'its inputSchema cannot be written as JSON';
  }
  if (size > MAX_SCHEMA_BYTES) return `its inputSchema is larger than ${MAX_SCHEMA_BYTES} bytes`;
  const { $schema: _dialect, ...rest } = schema;
  return { ...rest, type: 'object', properties: properties as Record<string, unknown> };
}

function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_DESCRIPTION_CHARS
    ? `${flat.slice(0, MAX_DESCRIPTION_CHARS - 1)}…`
    : flat;
}
