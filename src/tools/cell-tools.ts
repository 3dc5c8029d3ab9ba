import { z } from 'zod';
import type { ToolDefinition } from '../agent/model-provider.js';
import { CELL_TOOL_NAMES, type CellToolName } from '../cells/tool-protocol.js';
import { parseToolInput, toolDefinition, type ToolSpec } from './tool-spec.js';

/** Where the group's folder appears inside every cell. */
export const GROUP_MOUNT_PATH = '/workspace/group';
/** Where the global memory folder appears: read-write for the admin group, read-only otherwise. */
export const GLOBAL_MOUNT_PATH = '/workspace/global';

const path = z.string().min(1, 'must not be empty');
const relativeNote = `Relative paths are resolved from ${GROUP_MOUNT_PATH}, the group's folder.`;

const cell = <S extends z.ZodObject>(name: CellToolName, description: string, input: S) => ({
  name,
  description,
  input,
  adminOnly: false,
});

/** The six cell tools, one schema each; checked on the host before a call reaches the cell. */
export const cellToolSpecs = {
  bash: cell(
    'bash',
    `Run a bash command in the group's sandbox (no network). The working directory is ${GROUP_MOUNT_PATH}; files written there persist. Output is capped and the command has a timeout.`,
    z.object({
      command: z.string().min(1, 'must not be empty').describe('The command line to run.'),
    }),
  ),
  read_file: cell(
    'read_file',
    `Read a text file, with line numbers. ${relativeNote}`,
    z.object({
      path,
      offset: z.number().int().min(1).optional().describe('First line to read (1-based).'),
      limit: z.number().int().min(1).optional().describe('How many lines to read.'),
    }),
  ),
  write_file: cell(
    'write_file',
    `Create or replace a file with the given content (parent folders are created). ${relativeNote}`,
    z.object({ path, content: z.string() }),
  ),
  edit_file: cell(
    'edit_file',
    `Replace old_string with new_string in a file. old_string must occur exactly once unless replace_all is true. ${relativeNote}`,
    z.object({
      path,
      old_string: z.string().min(1, 'must not be empty'),
      new_string: z.string(),
      replace_all: z.boolean().optional(),
    }),
  ),
  list_files: cell(
    'list_files',
    `List files under a folder, recursively (default: the group folder). ${relativeNote}`,
    z.object({ path: z.string().optional() }),
  ),
  grep: cell(
    'grep',
    `Search file contents for a regular expression (extended syntax); prints file:line:text. ${relativeNote}`,
    z.object({
      pattern: z.string().min(1, 'must not be empty'),
      path: z.string().optional(),
      ignore_case: z.boolean().optional(),
    }),
  ),
} satisfies Record<CellToolName, ToolSpec>;

/** Each cell tool's input schema, by name. */
export const cellToolInputs = Object.fromEntries(
  CELL_TOOL_NAMES.map((name) => [name, cellToolSpecs[name].input]),
) as { [K in CellToolName]: (typeof cellToolSpecs)[K]['input'] };

export const cellToolDefinitions: ToolDefinition[] = CELL_TOOL_NAMES.map((name) =>
  toolDefinition(cellToolSpecs[name]),
);

export function isCellTool(name: string): name is CellToolName {
  return Object.hasOwn(cellToolSpecs, name);
}

/** Check a tool input; the error names each bad field so the model can correct itself. */
export function validateCellToolInput(
  name: CellToolName,
  input: unknown,
): { ok: true; input: Record<string, unknown> } | { ok: false; error: string } {
  return parseToolInput<z.ZodObject>(cellToolSpecs[name], input);
}
