import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit-log.js';
import { fingerprint } from '../audit/canonical-json.js';
import { Store } from '../store/store.js';
import { dashboardActivity, toolStepOf } from './dashboard-activity.js';
import { MAX_TOOL_OUTPUT_CHARS } from '../channels/web/dashboard-types-activity.js';

describe('dashboardActivity', () => {
  let dir: string;
  let store: Store;
  let audit: AuditLog;
  let clock: Date;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-dashact-'));
    store = Store.open(':memory:');
    clock = new Date('2026-03-01T12:00:00.000Z');
    audit = AuditLog.open(path.join(dir, 'audit.log'), { now: () => clock });
  });
  afterEach(() => {
    audit.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const activity = () => dashboardActivity({ store, audit });
  const toolCall = (group: string, tool: string, input: object, decision: 'allow' | 'deny') =>
    audit.append({
      type: 'tool_call',
      group,
      tool,
      inputFingerprint: fingerprint(input),
      decision,
      rule: decision === 'deny' ? 'groups/family.policy:2 deny bash command="rm *"' : null,
      outcome: decision === 'deny' ? 'not_run' : 'ok',
      durationMs: 42,
    });

  it("builds a group's tool cards from its stored turns and the audit log's decisions", () => {
    const family = store.groups.create({ name: 'family', isAdmin: false });
    const ls = { command: 'ls' };
    const rm = { command: 'rm -rf x' };
    toolCall('family', 'bash', ls, 'allow');
    toolCall('family', 'bash', rm, 'deny');
    toolCall('other', 'bash', ls, 'deny');
    store.history.append(family.id, [
      { role: 'user', content: [{ type: 'text', text: 'tidy up' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'c1', name: 'bash', input: ls },
          { type: 'tool_use', id: 'c2', name: 'bash', input: rm },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'c1', content: 'a.txt\n' },
          { type: 'tool_result', tool_use_id: 'c2', content: 'Denied', is_error: true },
        ],
      },
    ]);

    const steps = activity().toolSteps('family', 10);

    expect(steps).toMatchObject({
      ok: true,
      steps: [
        { id: 'c1', tool: 'bash', input: ls, output: 'a.txt\n', decision: 'allow', durationMs: 42 },
        {
          id: 'c2',
          input: rm,
          isError: true,
          decision: 'deny',
          rule: 'groups/family.policy:2 deny bash command="rm *"',
        },
      ],
    });
    expect(activity().toolSteps('nobody', 10)).toEqual({
      ok: false,
      reason: 'no group "nobody"; see the Groups view',
    });
  });

  it('cuts a long output for the card and says so', () => {
    const step = toolStepOf(
      'main',
      {
        type: 'tool_step',
        id: 'c9',
        name: 'bash',
        input: { command: 'yes' },
        output: 'y'.repeat(MAX_TOOL_OUTPUT_CHARS + 10),
        isError: false,
        decision: 'allow',
        rule: null,
        durationMs: 3,
      },
      clock,
    );
    expect(step.output).toHaveLength(MAX_TOOL_OUTPUT_CHARS);
    expect(step.outputCut).toBe(true);
  });

  it('filters the audit log by type, group, tool, decision and time', () => {
    toolCall('family', 'bash', { command: 'ls' }, 'allow');
    clock = new Date('2026-03-01T13:00:00.000Z');
    toolCall('family', 'bash', { command: 'rm x' }, 'deny');
    toolCall('work', 'read_file', { path: 'a' }, 'deny');
    audit.append({ type: 'shutdown', reason: 'signal' });

    const a = activity();
    expect(a.audit({ group: 'family' }).map((r) => r.detail.decision)).toEqual(['allow', 'deny']);
    expect(a.audit({ decision: 'deny' }).map((r) => r.detail.group)).toEqual(['family', 'work']);
    expect(a.audit({ tool: 'read_file' })).toHaveLength(1);
    expect(a.audit({ type: 'shutdown' })).toHaveLength(1);
    expect(a.audit({ since: '2026-03-01T12:30:00.000Z', type: 'tool_call' })).toHaveLength(2);
    expect(a.audit({ until: '2026-03-01T12:30:00.000Z' })).toHaveLength(1);
    expect(a.audit({ limit: 2 }).map((r) => r.type)).toEqual(['tool_call', 'shutdown']);
  });

  it("lists the egress proxy's decisions, allowed and refused, without the finished echoes", () => {
    const base = { method: 'GET', path: '/x', bytesUp: 0, bytesDown: 0, kind: 'http' as const };
    audit.append({
      type: 'egress',
      group: 'family',
      host: 'api.github.com',
      decision: 'allowed',
      rule: 'groups/family.policy:1 allow http domain="api.github.com"',
      stage: 'decided',
      ...base,
    });
    audit.append({
      type: 'egress',
      group: 'family',
      host: 'api.github.com',
      decision: 'allowed',
      rule: null,
      stage: 'finished',
      ...base,
    });
    audit.append({
      type: 'egress',
      group: 'work',
      host: 'evil.example',
      decision: 'denied',
      rule: null,
      reason: 'no rule allows evil.example',
      ...base,
    });

    const all = activity().egress({});
    expect(all.map((e) => [e.group, e.host, e.decision])).toEqual([
      ['family', 'api.github.com', 'allowed'],
      ['work', 'evil.example', 'denied'],
    ]);
    expect(all[1]).toMatchObject({ method: 'GET', reason: 'no rule allows evil.example' });
    expect(activity().egress({ decision: 'denied', group: 'family' })).toEqual([]);
  });
});
