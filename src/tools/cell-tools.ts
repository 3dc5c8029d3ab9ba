import { z } from 'zod';
import type { ToolDefinition } from '../agent/model-provider.js';
import type { CellToolName } from '../cells/tool-protocol.js';

/** Where the group's folder appears inside every cell. */
export const GROUP_MOUNT_PATH = '/workspace/group';
/** Where the global memory folder appears: read-write for the admin group, read-only otherwise. */
export const GLOBAL_MOUNT_PATH = '/workspace/global';

const path = z.string().min(1, 'must not be empty');

/** Input schemas, checked on the host before a call reaches the cell. */
export const cellToolInputs = {
  bash: z.object({ command: z.string().min(1, 'must not be empty') }),
  read_file: z.object({
    path,
    offset: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).optional(),
  }),
  write_file: z.object({ path, content: z.string() }),
  edit_file: z.object({
    path,
    old_string: z.string().min(1, 'must not be empty'),
    new_string: z.string(),
    replace_all: z.boolean().optional(),
  }),
  list_files: z.object({ path: z.string().optional() }),
  grep: z.object({
    pattern: z.string().min(1, 'must not be empty'),
    path: z.string().optional(),
    ignore_case: z.boolean().optional(),
  }),
} satisfies Record<CellToolName, z.ZodType>;

const relativeNote = `Relative paths are resolved from ${GROUP_MOUNT_PATH}, the group's folder.`;

export const cellToolDefinitions: ToolDefinition[] = [
  {
    name: 'bash',
    description: `Run a bash command in the group's sandbox (no network). The working directory is ${GROUP_MOUNT_PATH}; files written there persist. Output is capped and the command has a timeout.`,
    input_schema: {
      type: 'object',
      properties: { command: { type: 'string', description: 'The command line to run.' } },
      required: ['command'],
    },
  },
  {
    name: 'read_file',
    description: `Read a text file, with line numbers. ${relativeNote}`,
    input_schema: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        offset: { type: 'integer', description: 'First line to read (1-based).' },
        limit: { type: 'integer', description: 'How many lines to read.' },
      },
      required: ['path'],
    },
  },
  {
    name: 'write_file',
    description: `Create or replace a file with the given content (parent folders are created). ${relativeNote}`,
    input_schema: {
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    },
  },
  {
    name: 'edit_file',
    description: `Replace old_string with new_string in a file. old_string must occur exactly once unless replace_all is true. ${relativeNote}`,
    input_schema: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        old_string: { type: 'string' },
        new_string: { type: 'string' },
        replace_all: { type: 'boolean' },
      },
      required: ['path', 'old_string', 'new_string'],
    },
  },
  {
    name: 'list_files',
    description: `List files under a folder, recursively (default: the group folder). ${relativeNote}`,
    input_schema: { type: 'object', properties: { path: { type: 'string' } } },
  },
  {
    name: 'grep',
    description: `Search file contents for a regular expression (extended syntax); prints file:line:text. ${relativeNote}`,
    input_schema: {
      type: 'object',
      properties: {
        pattern: { type: 'string' },
        path: { type: 'string' },
        ignore_case: { type: 'boolean' },
      },
      required: ['pattern'],
    },
  },
];

export function isCellTool(name: string): name is CellToolName {
  return Object.hasOwn(cellToolInputs, name);
}

/** Check a tool input; the error names each bad field so the model can correct itself. */
export function validateCellToolInput(
  name: CellToolName,
  input: unknown,
): { ok: true; input: Record<string, unknown> } | { ok: false; error: string } {
  const parsed = cellToolInputs[name].safeParse(input);
  if (parsed.success) return { ok: true, input: parsed.data as Record<string, unknown> };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  return { ok: false, error: `Invalid input for ${name}: ${problems.join('; ')}` };
}
