import { describe, expect, it } from 'vitest';
import { CELL_TOOL_NAMES, type CellToolName } from '../cells/tool-protocol.js';
import {
  cellToolDefinitions,
  cellToolInputs,
  isCellTool,
  validateCellToolInput,
} from './cell-tools.js';

describe('validateCellToolInput', () => {
  it.each<[CellToolName, Record<string, unknown>]>([
    ['bash', { command: 'ls -la' }],
    ['read_file', { path: 'notes.md' }],
    ['read_file', { path: '/workspace/group/notes.md', offset: 10, limit: 20 }],
    ['write_file', { path: 'a/b.txt', content: '' }],
    ['edit_file', { path: 'a.txt', old_string: 'x', new_string: '' }],
    ['edit_file', { path: 'a.txt', old_string: 'x', new_string: 'y', replace_all: true }],
    ['list_files', {}],
    ['list_files', { path: 'sub' }],
    ['grep', { pattern: 'TODO' }],
    ['grep', { pattern: 'todo', path: 'src', ignore_case: true }],
  ])('accepts %s %j', (tool, input) => {
    expect(validateCellToolInput(tool, input)).toEqual({ ok: true, input });
  });

  it.each<[CellToolName, unknown, string]>([
    ['bash', {}, 'command'],
    ['bash', { command: '' }, 'command: must not be empty'],
    ['bash', { command: 42 }, 'command'],
    ['read_file', { path: '' }, 'path: must not be empty'],
    ['read_file', { path: 'a', offset: 0 }, 'offset'],
    ['read_file', { path: 'a', limit: 1.5 }, 'limit'],
    ['write_file', { path: 'a' }, 'content'],
    ['edit_file', { path: 'a', old_string: '', new_string: 'b' }, 'old_string: must not be empty'],
    ['edit_file', { path: 'a', old_string: 'a' }, 'new_string'],
    [
      'edit_file',
      { path: 'a', old_string: 'a', new_string: 'b', replace_all: 'yes' },
      'replace_all',
    ],
    ['list_files', { path: 3 }, 'path'],
    ['grep', { pattern: 'x', ignore_case: 'true' }, 'ignore_case'],
    ['grep', {}, 'pattern'],
    ['bash', null, 'input'],
    ['bash', 'ls', 'input'],
  ])('rejects %s %j, naming %s', (tool, input, field) => {
    const result = validateCellToolInput(tool, input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(new RegExp(`^Invalid input for ${tool}: `));
    expect(result.error).toContain(field);
  });

  it('names every bad field at once', () => {
    const result = validateCellToolInput('edit_file', { path: '', old_string: '' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    for (const field of ['path', 'old_string', 'new_string'])
      expect(result.error).toContain(`${field}:`);
  });

  it('drops fields the tool does not know', () => {
    expect(validateCellToolInput('bash', { command: 'ls', sudo: true })).toEqual({
      ok: true,
      input: { command: 'ls' },
    });
  });
});

describe('cell tool definitions', () => {
  it('define exactly the six cell tools, in protocol order', () => {
    expect(cellToolDefinitions.map((d) => d.name)).toEqual([...CELL_TOOL_NAMES]);
    expect(CELL_TOOL_NAMES).toHaveLength(6);
  });

  it.each(cellToolDefinitions.map((d) => [d.name, d] as const))(
    '%s declares the same properties and required fields as its input schema',
    (name, definition) => {
      if (!isCellTool(name)) throw new Error(`${name} is not a cell tool`);
      const shape: Record<string, { safeParse(v: unknown): { success: boolean } }> =
        cellToolInputs[name].shape;
      const required = Object.keys(shape).filter(
        (key) => !shape[key]?.safeParse(undefined).success,
      );
      expect(Object.keys(definition.input_schema.properties).sort()).toEqual(
        Object.keys(shape).sort(),
      );
      expect([...(definition.input_schema.required ?? [])].sort()).toEqual(required.sort());
      expect(definition.description.length).toBeGreaterThan(0);
    },
  );
});

describe('isCellTool', () => {
  it.each(CELL_TOOL_NAMES)('knows %s', (name) => {
    expect(isCellTool(name)).toBe(true);
  });

  it.each(['rm', 'Bash', 'toString', '__proto__', 'constructor', 'hasOwnProperty', ''])(
    'does not take %j for a cell tool',
    (name) => {
      expect(isCellTool(name)).toBe(false);
    },
  );
});
