import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ADMIN_ONLY_TOOLS } from '../policy/rules.js';
import { cellToolSpecs } from './cell-tools.js';
import { ADMIN_ONLY_TOOL_NAMES, HOST_TOOL_NAMES, hostToolSpecs } from './host-tool-specs.js';
import { parseToolInput, toolDefinition, type ToolSpec } from './tool-spec.js';

const allSpecs: ToolSpec[] = [...Object.values(cellToolSpecs), ...Object.values(hostToolSpecs)];

describe('tool specs', () => {
  it.each(allSpecs.map((s) => [s.name, s] as const))(
    "%s: the model's JSON Schema is derived from its one zod schema",
    (_name, spec) => {
      const definition = toolDefinition(spec);
      const shape = spec.input.shape as Record<string, z.ZodType>;
      const required = Object.keys(shape).filter((k) => !shape[k]?.safeParse(undefined).success);
      expect(definition.input_schema.type).toBe('object');
      expect(definition.input_schema).not.toHaveProperty('$schema');
      expect(Object.keys(definition.input_schema.properties).sort()).toEqual(
        Object.keys(shape).sort(),
      );
      // A field the schema lets be absent is never required of the model; schedule is the
      // one unknown-typed field the model must still send.
      for (const key of required) expect(definition.input_schema.required).toContain(key);
      expect(definition.description.length).toBeGreaterThan(20);
    },
  );

  it('carries field descriptions and constraints into the JSON Schema', () => {
    const bash = toolDefinition(cellToolSpecs.bash).input_schema;
    expect(bash.properties.command).toMatchObject({
      type: 'string',
      minLength: 1,
      description: 'The command line to run.',
    });
    const schedule = toolDefinition(hostToolSpecs.schedule_task).input_schema;
    expect(schedule.required).toEqual(expect.arrayContaining(['prompt', 'schedule']));
    expect(schedule.properties.schedule).toMatchObject({ type: 'object' });
    expect(schedule.properties.context_mode).toMatchObject({ enum: ['group', 'isolated'] });
  });

  it('names the admin-only tools from the specs themselves, and policy uses that list', () => {
    expect([...ADMIN_ONLY_TOOL_NAMES].sort()).toEqual(['list_groups', 'register_group']);
    expect(ADMIN_ONLY_TOOLS).toEqual(ADMIN_ONLY_TOOL_NAMES);
    expect(HOST_TOOL_NAMES).toEqual(Object.values(hostToolSpecs).map((s) => s.name));
  });

  it('gives the handler the parsed input and names every bad field otherwise', () => {
    expect(parseToolInput(hostToolSpecs.pause_task, { task_id: 3, extra: 1 })).toEqual({
      ok: true,
      input: { task_id: 3 },
    });
    expect(parseToolInput(hostToolSpecs.register_group, { name: 'Bad Name', chat: 'x' })).toEqual({
      ok: false,
      error:
        'Invalid input for register_group: name: use lowercase letters, digits, - and _; chat: must be "channel:chat-id", e.g. "web:family"',
    });
  });
});
