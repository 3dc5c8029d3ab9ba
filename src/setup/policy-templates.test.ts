import { describe, expect, it } from 'vitest';
import { decide } from '../policy/decide.js';
import { toolClassOf } from '../policy/rules.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';
import { checkPolicyTemplate, POLICY_TEMPLATES, type PolicyTemplate } from './policy-templates.js';

/** The effect the gate (and the egress proxy) gives a call under one template as default.policy. */
function effectOf(template: PolicyTemplate, tool: string, input: Record<string, unknown>) {
  const { rules } = checkPolicyTemplate(template);
  return decide(
    {
      groupName: 'family',
      isAdmin: false,
      tool,
      toolClass: toolClassOf(tool, HOST_TOOL_NAMES)!,
      input,
    },
    { defaults: rules, group: [] },
  ).effect;
}

describe('the policy templates setup offers', () => {
  it.each(POLICY_TEMPLATES)('%s parses with no error and no warning', (template) => {
    const parsed = checkPolicyTemplate(template);
    expect(parsed.errors).toEqual([]);
    expect(parsed.warnings).toEqual([]);
  });

  it.each([
    [
      'ask-network',
      'http',
      { domain: 'example.org', method: 'GET', path: '/', port: 443 },
      'allow',
    ],
    [
      'ask-network',
      'http',
      { domain: 'example.org', method: 'POST', path: '/', port: 443 },
      'deny',
    ],
    ['ask-network', 'http', { domain: 'example.org', port: 443 }, 'deny'],
    ['read-only', 'write_file', { path: '/workspace/group/x' }, 'deny'],
    ['read-only', 'edit_file', { path: '/workspace/group/x' }, 'deny'],
    ['read-only', 'bash', { command: 'ls' }, 'ask'],
    ['read-only', 'read_file', { path: '/workspace/group/x' }, 'allow'],
    ['none', 'http', { domain: 'example.org', method: 'GET', path: '/', port: 443 }, 'deny'],
    ['none', 'bash', { command: 'ls' }, 'allow'],
  ] as const)('%s: %s %j is %s', (template, tool, input, effect) => {
    expect(effectOf(template, tool, input)).toBe(effect);
  });
});
