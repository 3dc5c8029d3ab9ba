import { describe, expect, it } from 'vitest';
import { decide } from '../policy/decide.js';
import { parsePolicy } from '../policy/policy-file.js';
import { knownToolNames } from '../policy/rules.js';
import { MAX_TOOLS_PER_SERVER, offerTools } from './offer-tools.js';

const objectSchema = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };

describe('offering an MCP server tools to the model', () => {
  it('names each tool SERVER__tool in lower case, labelled with its server', () => {
    const { tools, dropped } = offerTools('weather', [
      { name: 'Get-Forecast', description: 'The forecast.', inputSchema: objectSchema },
    ]);
    expect(dropped).toEqual([]);
    expect(tools).toEqual([
      {
        server: 'weather',
        toolName: 'Get-Forecast',
        definition: {
          name: 'weather__get_forecast',
          description: '[MCP server weather] The forecast.',
          input_schema: objectSchema,
        },
      },
    ]);
  });

  it.each([
    [
      'a name with other characters',
      { name: 'rm -rf', inputSchema: objectSchema },
      /its name must be/,
    ],
    ['no name', { inputSchema: objectSchema }, /tool #0: its name must be/],
    [
      'an input schema that is not an object',
      { name: 'a', inputSchema: { type: 'string' } },
      /does not describe an object/,
    ],
    ['no input schema', { name: 'a' }, /is not a JSON Schema object/],
    [
      'properties that are not an object',
      { name: 'a', inputSchema: { type: 'object', properties: [] } },
      /properties that are not an object/,
    ],
    [
      'a bad required list',
      { name: 'a', inputSchema: { type: 'object', required: [1] } },
      /"required" that is not a list/,
    ],
    [
      'a huge schema',
      { name: 'a', inputSchema: { type: 'object', description: 'x'.repeat(40_000) } },
      /larger than 32768 bytes/,
    ],
    [
      'a name too long once prefixed',
      { name: 'n'.repeat(60), inputSchema: objectSchema },
      /longer than 64 characters/,
    ],
    ['not an object at all', 'echo', /tool #0: its name must be/],
  ])('drops a tool with %s, saying why', (_what, tool, why) => {
    const { tools, dropped } = offerTools('srv', [tool]);
    expect(tools).toEqual([]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(why);
  });

  it('keeps the good tools beside a bad one, and drops a clash of names', () => {
    const { tools, dropped } = offerTools('srv', [
      { name: 'a-b', inputSchema: objectSchema },
      { name: 'A_B', inputSchema: objectSchema },
      { name: 'bad', inputSchema: { type: 'array' } },
      { name: 'c', inputSchema: { type: 'object' } },
    ]);
    expect(tools.map((t) => t.definition.name)).toEqual(['srv__a_b', 'srv__c']);
    expect(tools[1]!.definition.input_schema).toEqual({ type: 'object', properties: {} });
    expect(dropped).toEqual([
      'tool "A_B": it clashes with another tool offered as srv__a_b',
      'tool "bad": its inputSchema does not describe an object (type "object")',
    ]);
  });

  it(`offers at most ${MAX_TOOLS_PER_SERVER} tools and strips control characters from descriptions`, () => {
    const many = Array.from({ length: MAX_TOOLS_PER_SERVER + 3 }, (_, i) => ({
      name: `t${i}`,
      description: 'line\u0000\u001b[31m',
      inputSchema: objectSchema,
    }));
    const { tools, dropped } = offerTools('srv', many);
    expect(tools).toHaveLength(MAX_TOOLS_PER_SERVER);
    expect(dropped).toEqual([`3 more tools: a server may offer at most ${MAX_TOOLS_PER_SERVER}`]);
    expect(tools[0]!.definition.description).toBe('[MCP server srv] line [31m');
  });

  it('gives names a policy rule can deny', () => {
    const [tool] = offerTools('weather', [
      { name: 'Get-Forecast', inputSchema: objectSchema },
    ]).tools;
    const parsed = parsePolicy('deny weather__get_forecast\n', 'default.policy', {
      knownTools: knownToolNames([]),
    });
    expect(parsed.errors).toEqual([]);
    const layers = { defaults: parsed.rules, group: [] };
    const call = (name: string) =>
      decide(
        { groupName: 'main', isAdmin: true, tool: name, toolClass: 'cell', input: {} },
        layers,
      );
    expect(call(tool!.definition.name)).toMatchObject({ effect: 'deny' });
    expect(call('weather__other')).toMatchObject({ effect: 'allow' });
  });

  it('still refuses a typo of a built-in tool in a policy file', () => {
    const parsed = parsePolicy('deny bassh\n', 'default.policy', {
      knownTools: knownToolNames([]),
    });
    expect(parsed.errors).toHaveLength(1);
  });
});
