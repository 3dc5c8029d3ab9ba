import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

function toolResultText(body: unknown): string {
  const messages = (
    body as { messages: Array<{ content: Array<{ type: string; content?: string }> }> }
  ).messages;
  return messages
    .at(-1)!
    .content.filter((b) => b.type === 'tool_result')
    .map((b) => b.content ?? '')
    .join('\n');
}

/** Which of run 1's daemons are alive; the bracket keeps grep from matching its own line. */
const DAEMONS =
  'echo "daemons=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " " | grep -o "[n]anocell-daemon-[a-z]*" | sort -u | tr "\\n" " ")"';

/**
 * Run 1 leaves a file in /tmp and in home, a setsid daemon (node's detached spawn calls
 * setsid; the cell image has no setsid binary) and a nohup one, and checks they are there.
 */
const LEAVE_BEHIND = [
  'echo run-1 > /tmp/left-by-run-1',
  'echo run-1 > ~/left-by-run-1',
  `node -e "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'nanocell-daemon-setsid'], { detached: true, stdio: 'ignore' }).unref()"`,
  'nohup node -e "setTimeout(() => {}, 600000)" nanocell-daemon-nohup >/dev/null 2>&1 &',
  'cat /tmp/left-by-run-1 ~/left-by-run-1',
  'sleep 0.5',
  DAEMONS,
].join('\n');

/** What run 2 sees of it. */
const LOOK = [
  'test -e /tmp/left-by-run-1 && echo TMP_LEFT || echo TMP_CLEAN',
  'test -e ~/left-by-run-1 && echo HOME_LEFT || echo HOME_CLEAN',
  DAEMONS,
].join('\n');

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(`a fresh ${rt.name} cell for every run`, () => {
    let model: FakeModelServer;
    let home: ReturnType<typeof tempHome>;

    beforeAll(async () => {
      model = await startFakeModelServer();
      home = tempHome();
    });
    afterAll(async () => {
      await model.close();
      home.cleanup();
    });

    async function twoRuns(extraEnv: Record<string, string>) {
      model.reset();
      model.enqueue(
        reply().tool('bash', { command: LEAVE_BEHIND }),
        reply().text('left things behind'),
        reply().tool('bash', { command: LOOK }),
        reply().text('looked'),
      );
      const r = await runCli(
        ['chat'],
        {
          ANTHROPIC_API_KEY: 'x',
          ANTHROPIC_BASE_URL: model.url,
          NANOCELL_HOME: home.dir,
          NANOCELL_RUNTIME: rt.name,
          ...extraEnv,
        },
        { input: 'leave something\nwhat is left?\n/quit\n' },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Andy: looked');
      expect(model.requests).toHaveLength(4);
      return {
        left: toolResultText(model.requests[1]!.body),
        seen: toolResultText(model.requests[3]!.body),
        log: fs.readFileSync(path.join(home.dir, 'logs', 'nanocell.log'), 'utf8'),
      };
    }

    it('run 2 sees nothing run 1 left in /tmp, in home or running in the background', async () => {
      const { left, seen, log } = await twoRuns({});
      expect(left).toBe('run-1\nrun-1\ndaemons=nanocell-daemon-nohup nanocell-daemon-setsid \n');
      expect(seen).toContain('TMP_CLEAN');
      expect(seen).toContain('HOME_CLEAN');
      expect(seen).toMatch(/daemons=\s*$/m);
      // Run 2's cell was started as a spare when run 1 ended, before run 2 asked for it.
      const lines = log.split('\n');
      const spareStart = lines.findIndex(
        (l) => l.includes('"msg":"cell started"') && l.includes('"spare":true'),
      );
      const secondCall = lines.findLastIndex((l) => l.includes('"msg":"tool call"'));
      expect(spareStart, log).toBeGreaterThanOrEqual(0);
      expect(spareStart, log).toBeLessThan(secondCall);
    });

    it("with NANOCELL_CELL_REUSE=group, run 2 shares run 1's /tmp, but still no daemon outlives its call", async () => {
      const { left, seen } = await twoRuns({ NANOCELL_CELL_REUSE: 'group' });
      expect(left).toContain('daemons=nanocell-daemon-nohup nanocell-daemon-setsid');
      expect(seen).toContain('TMP_LEFT');
      expect(seen).toContain('HOME_LEFT');
      expect(seen).toMatch(/daemons=\s*$/m);
    });
  });
}
