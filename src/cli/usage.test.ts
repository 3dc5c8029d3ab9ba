import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import { openBase, type Base } from '../app.js';
import { loadConfig } from '../config.js';
import { groupsCommand } from './groups.js';
import { usageCommand } from './usage.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

const now = new Date('2026-12-03T12:00:00Z');

describe('nanocell usage and group budgets, on a real store', () => {
  let home: ReturnType<typeof tempHome>;
  let base: Base;
  let configDir: string;
  const usage = (args: { group?: string; since?: string; by?: string }) => {
    const out = capture();
    const err = capture();
    const code = usageCommand(base, args, out.stream, err.stream, now);
    return { code, out: out.text(), err: err.text() };
  };
  const groups = (positionals: string[], flags: Record<string, string> = {}) => {
    const out = capture();
    const err = capture();
    const code = groupsCommand(base, { positionals, ...flags }, out.stream, err.stream);
    return { code, out: out.text(), err: err.text() };
  };
  const record = (groupId: number, model: string, at: string, input: number, read = 0) =>
    base.store.usage.record({
      runId: 'r1',
      groupId,
      provider: 'anthropic',
      model,
      inputTokens: input,
      outputTokens: 100,
      cacheReadTokens: read,
      cacheWriteTokens: 0,
      at: new Date(at),
    });

  beforeEach(() => {
    home = tempHome();
    configDir = `${home.dir}-config`;
    base = openBase(
      loadConfig({
        NANOCELL_HOME: home.dir,
        NANOCELL_CONFIG_DIR: configDir,
        NANOCELL_LOG_LEVEL: 'silent',
      }),
    );
    const family = base.store.groups.create({ name: 'family', isAdmin: false });
    const main = base.store.groups.admin()!;
    record(main.id, 'claude-sonnet-4', '2026-12-03T08:00:00Z', 1000, 9000);
    record(family.id, 'claude-haiku-4', '2026-12-02T08:00:00Z', 2000);
    record(family.id, 'claude-haiku-4', '2026-11-01T08:00:00Z', 99_999);
  });
  afterEach(() => {
    base.close();
    home.cleanup();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('prints tokens, the cache hit rate and a cost per group for the last 7 days by default', () => {
    const r = usage({});
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('model usage since 2026-11-26 12:00 UTC');
    expect(r.out).toMatch(/^main\s+1\s+1,000\s+100\s+9,000\s+0\s+90\.0%\s+\$0\.0072$/m);
    expect(r.out).toMatch(/^family\s+1\s+2,000\s+100\s+0\s+0\s+0\.0%\s+\$0\.0025$/m);
    expect(r.out).toMatch(/^total\s+2\s+3,000\s+200/m);
    expect(r.out).not.toContain('99,999');
  });

  it('narrows to one group, per day or per model, and reaches back as far as asked', () => {
    expect(usage({ group: 'family', by: 'day', since: '2026-11-01' }).out).toMatch(
      /^2026-11-01\s+1\s+99,999.*\n2026-12-02\s+1\s+2,000/m,
    );
    const byModel = usage({ by: 'model', since: '24h' }).out;
    expect(byModel).toMatch(/^claude-sonnet-4\s+1\s+1,000/m);
    expect(byModel).not.toContain('claude-haiku-4');
  });

  it('refuses a bad --since, --by or an unknown group, saying what to write', () => {
    const since = usage({ since: 'last week' });
    expect(since.code).toBe(2);
    expect(since.err).toContain('like 24h, 7d or 30d');
    expect(usage({ by: 'hour' }).err).toContain('--by "hour": use one of group, model, day');
    const unknown = usage({ group: 'famly' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no group named "famly" (groups: main, family)');
  });

  it("uses the owner's prices.json; a bad one is named with its key and fix, and tokens still print", () => {
    fs.mkdirSync(configDir, { recursive: true });
    const file = path.join(configDir, 'prices.json');
    fs.writeFileSync(file, JSON.stringify({ 'claude-haiku-4': { input: 1000 } }));
    expect(usage({ group: 'family' }).out).toMatch(/^family\s.*\$2\.00$/m);
    fs.writeFileSync(file, JSON.stringify({ 'claude-haiku-4': { inptu: 1 } }));
    const bad = usage({ group: 'family' });
    expect(bad.code).toBe(0);
    expect(bad.err).toContain(`${file}: claude-haiku-4`);
    expect(bad.err).toContain('USD per million tokens');
    expect(bad.out).toMatch(/^family\s+1\s+2,000/m);
    expect(bad.out).not.toContain('cost');
  });

  it('sets, shows and clears a group budget, refusing what is not a number', () => {
    expect(groups(['set', 'family'], { budgetTokens: '200000', budgetUsd: '2.5' }).out).toBe(
      'family: budget 200,000 tokens / $2.50 a day (UTC days), from its next run on\n',
    );
    expect(groups(['list']).out).toMatch(/^family\t.*\tbudget 200,000 tokens \/ \$2\.50 a day$/m);
    expect(groups(['set', 'family'], { budgetTokens: 'none' }).out).toContain('budget $2.50 a day');
    expect(groups(['set', 'family'], { budgetUsd: 'none' }).out).toContain('family: no budget');
    const bad = groups(['set', 'family'], { budgetTokens: '1e5' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--budget-tokens "1e5": give whole tokens per day');
    expect(groups(['set', 'nobody'], { budgetUsd: '1' }).err).toContain('no group named "nobody"');
  });
});
