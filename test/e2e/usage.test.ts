import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

const bwrap = runtimesUnderTest().find((r) => r.name === 'bwrap')!;

/** What the host stored for the owner's chats (the admin group's) and for family's. */
function outbound(home: string, group: string): string[] {
  const store = Store.open(path.join(home, 'nanocell.db'));
  try {
    const g = store.groups.byName(group)!;
    return store.messages
      .recent(g.id, 100)
      .filter((m) => m.direction === 'out')
      .map((m) => m.text);
  } finally {
    store.close();
  }
}

describe.skipIf(!(await shouldRun(bwrap.make())))(
  'usage and budgets through the real CLI, against the fake model',
  () => {
    let model: FakeModelServer;
    let home: ReturnType<typeof tempHome>;
    let env: Record<string, string>;

    beforeAll(async () => {
      model = await startFakeModelServer();
    });
    afterAll(() => model.close());
    beforeEach(() => {
      model.reset();
      home = tempHome();
      env = {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: model.url,
        NANOCELL_MODEL: 'claude-sonnet-4',
        NANOCELL_HOME: home.dir,
        NANOCELL_RUNTIME: 'bwrap',
      };
    });
    afterEach(() => home.cleanup());

    it('counts two asks: tokens, the cache read by the second, and a cost', async () => {
      model.enqueue(reply().text('one'), reply().text('two'));
      expect((await runCli(['ask', 'first question'], env)).code).toBe(0);
      expect((await runCli(['ask', 'second question'], env)).code).toBe(0);

      const usage = await runCli(['usage'], env);
      expect(usage.stderr).toBe('');
      expect(usage.code).toBe(0);
      const main =
        /^main\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)%\s+\$([\d.]+)$/m.exec(
          usage.stdout,
        );
      expect(main, usage.stdout).not.toBeNull();
      const [, requests, , , read, write, hit, cost] = main!;
      expect(requests).toBe('2');
      // The second ask read the tools, the system prompt and the first turn from the cache.
      expect(Number(read!.replace(/,/g, ''))).toBeGreaterThan(1000);
      expect(Number(write!.replace(/,/g, ''))).toBeGreaterThan(1000);
      expect(Number(hit)).toBeGreaterThan(20);
      expect(Number(cost)).toBeGreaterThan(0);

      const byModel = await runCli(['usage', '--by', 'model', '--since', '24h'], env);
      expect(byModel.stdout).toMatch(/^claude-sonnet-4\s+2\s/m);
      const bad = await runCli(['usage', '--since', 'fortnight'], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('like 24h, 7d or 30d');
    });

    it('does not run a group over its token budget, tells the owner once, and runs the kept message after the budget is raised', async () => {
      expect((await runCli(['groups', 'add', 'family', '--no-trigger'], env)).code).toBe(0);
      model.enqueue(reply().text('first answer'));
      expect((await runCli(['ask', '--group', 'family', 'one'], env)).code).toBe(0);
      const set = await runCli(['groups', 'set', 'family', '--budget-tokens', '100'], env);
      expect(set.stdout).toContain('family: budget 100 tokens a day');
      expect((await runCli(['groups', 'list'], env)).stdout).toMatch(
        /^family\t.*budget 100 tokens a day$/m,
      );

      const paused = await runCli(['ask', '--group', 'family', 'two'], env);
      expect(paused.code).toBe(1);
      expect(paused.stderr).toMatch(
        /Group family used [\d,]+ of its 100 tokens today; runs are paused/,
      );
      expect(paused.stderr).toContain('your message is saved');
      const again = await runCli(['ask', '--group', 'family', 'three'], env);
      expect(again.code).toBe(1);
      expect(model.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(1);
      // The owner's two chats (web, terminal) were told once, not once per paused run.
      const told = outbound(home.dir, 'main').filter((t) => t.includes('runs are paused'));
      expect(told).toHaveLength(2);

      expect(
        (await runCli(['groups', 'set', 'family', '--budget-tokens', '1000000'], env)).code,
      ).toBe(0);
      model.enqueue(reply().text('answering two, three and four'));
      const resumed = await runCli(['ask', '--group', 'family', 'four'], env);
      expect(resumed.stderr).not.toContain('paused');
      expect(resumed.code).toBe(0);
      expect(resumed.stdout.trim()).toBe('answering two, three and four');
      const sent = JSON.stringify(model.requests.at(-1)?.body?.messages?.at(-1));
      for (const word of ['two', 'three', 'four']) expect(sent).toContain(word);
    });

    it("answers a paused group's kept message by itself once the budget is raised, on the running host", async () => {
      expect(
        (await runCli(['groups', 'add', 'family', '--chat', 'web:family', '--no-trigger'], env))
          .code,
      ).toBe(0);
      expect((await runCli(['groups', 'set', 'family', '--budget-tokens', '100'], env)).code).toBe(
        0,
      );
      const host = await startHost({ ...env, NANOCELL_SCHEDULER_TICK_MS: '200' });
      try {
        const events = await host.subscribe();
        model.enqueue(reply().text('first answer'));
        await host.post('family', 'one');
        expect(await events.next('family')).toBe('first answer');
        await host.post('family', 'two');
        expect(await events.next('family')).toMatch(/runs are paused/);

        model.enqueue(reply().text('answering two'));
        const raised = await runCli(['groups', 'set', 'family', '--budget-tokens', '1000000'], env);
        expect(raised.code, raised.stderr).toBe(0);
        // No new message: the host's sweep runs the group again.
        expect(await events.next('family', 10_000)).toBe('answering two');
        events.close();
      } finally {
        await host.stop();
      }
    });
  },
);
