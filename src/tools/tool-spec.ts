import { z } from 'zod';
import type { ToolDefinition } from '../agent/model-provider.js';

/** What a tool is, apart from what it does: the one place its input is described. */
export interface ToolSpec<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly description: string;
  /** The tool's input: checked on the host before anything runs, and shown to the model. */
  readonly input: S;
  /** Decided on the host from the run's group, never from the model's input. */
  readonly adminOnly: boolean;
}

/** The definition the model sees, its JSON Schema derived from the zod schema. */
export function toolDefinition(spec: ToolSpec): ToolDefinition {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(spec.input, { io: 'input' });
  return {
    name: spec.name,
    description: spec.description,
    input_schema: { properties: {}, ...schema, type: 'object' },
  };
}

/** Check a tool's input; the error names each bad field so the model can correct itself. */
export function parseToolInput<S extends z.ZodObject>(
  spec: ToolSpec<S>,
  input: unknown,
): { ok: true; input: z.output<S> } | { ok: false; error: string } {
  const parsed = spec.input.safeParse(input);
  if (parsed.success) return { ok: true, input: parsed.data };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  return { ok: false, error: `Invalid input for ${spec.name}: ${problems.join('; ')}` };
}
