import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  reply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

const SECRET = 'HOST-FILE-SECRET-62d4';

/**
 * A cell plants links where the host works (MEMORY.md, the archive folder, the global
 * MEMORY.md from the admin cell) and races to flip them while the host reads memory, creates
 * the memory template and archives the session. The host never follows one: no host file is
 * created, overwritten or read into a prompt, and every run still completes.
 */
for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(`links planted by a ${rt.name} cell`, () => {
    let model: FakeModelServer;
    let home: ReturnType<typeof tempHome>;
    let host: HostProcess;
    let events: Awaited<ReturnType<HostProcess['subscribe']>>;
    let data: string;
    let victim: string;
    let victimDir: string;
    let dangling: string;

    /** A node program for the cell: flip each NAME between a link to TARGET and nothing. */
    const racer = (pairs: Array<[string, string]>, stopFile: string) =>
      `node -e ${JSON.stringify(
        `const fs=require('fs');const pairs=${JSON.stringify(pairs)};let n=0;` +
          `fs.writeFileSync('racer-started','1');const end=Date.now()+90000;` +
          `while(Date.now()<end&&!fs.existsSync(${JSON.stringify(stopFile)})){` +
          `for(const [p,t] of pairs){try{fs.rmSync(p,{recursive:true,force:true})}catch{}` +
          `try{fs.symlinkSync(t,p)}catch{}n++}` +
          `if(n%20===0)fs.writeFileSync('racer-progress',String(n))}` +
          `fs.writeFileSync('racer-done',String(n))`,
      )}`;

    /** The model: a compaction summary, a tool round's answer, or the attack a message names. */
    const respond = (req: RecordedRequest) => {
      const system = JSON.stringify(req.body?.system ?? '');
      if (system.includes('You summarise conversations')) return reply().text('summary');
      const last = req.body?.messages?.at(-1);
      const content = JSON.stringify(last?.content ?? '');
      if (content.includes('tool_result')) return reply().text('done');
      if (content.includes('PLANT-AND-RACE')) {
        const plant = [
          `rm -rf MEMORY.md archive; ln -s ${victim} MEMORY.md; ln -s ${victimDir} archive`,
          `(setsid nohup ${racer(
            [
              ['MEMORY.md', victim],
              ['MEMORY.md', dangling],
              ['archive', victimDir],
            ],
            '/workspace/group/stop-racer',
          )} >/dev/null 2>&1 &)`,
          'echo planted',
        ].join('; ');
        return reply().tool('bash', { command: plant });
      }
      if (content.includes('LINK-BYPASS')) {
        return reply()
          .tool('bash', {
            command: 'mkdir -p secret; echo PIN-5521 > secret/pin.txt; ln -s secret ok',
          })
          .tool('read_file', { path: 'ok/pin.txt' });
      }
      if (content.includes('GLOBAL-RACE')) {
        return reply().tool('bash', {
          command: racer(
            [
              ['/workspace/global/MEMORY.md', victim],
              ['/workspace/global/MEMORY.md', dangling],
            ],
            '/workspace/group/stop-racer',
          ),
        });
      }
      return reply().text('ok');
    };

    beforeAll(async () => {
      model = await startFakeModelServer();
      for (let i = 0; i < 200; i++) model.enqueue(respond);
      home = tempHome();
      data = path.join(home.dir, 'data');
      victim = path.join(home.dir, 'victim.txt');
      victimDir = path.join(home.dir, 'victim-dir');
      dangling = path.join(home.dir, 'created-by-host');
      fs.writeFileSync(victim, `${SECRET}\n`, { mode: 0o640 });
      fs.mkdirSync(victimDir);
      const configDir = path.join(home.dir, 'owner-config');
      fs.mkdirSync(path.join(configDir, 'policy', 'groups'), { recursive: true });
      fs.writeFileSync(
        path.join(configDir, 'policy', 'groups', 'family.policy'),
        'deny read_file path="/workspace/group/secret/**"\n',
      );
      const env = {
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: model.url,
        NANOCELL_HOME: data,
        NANOCELL_CONFIG_DIR: configDir,
        NANOCELL_RUNTIME: rt.name,
        NANOCELL_MODEL_MAX_RETRIES: '0',
        // Compact (and archive) after every run once a few turns are stored.
        NANOCELL_HISTORY_BUDGET_TOKENS: '1',
      };
      const added = await runCli(
        ['groups', 'add', 'family', '--chat', 'web:family', '--no-trigger'],
        env,
      );
      expect(added.code, added.stderr).toBe(0);
      host = await startHost(env);
      events = await host.subscribe();
    }, 120_000);

    afterAll(async () => {
      events?.close();
      await host?.stop();
      await model?.close();
      home?.cleanup();
    });

    const say = async (chat: string, text: string): Promise<string> => {
      const res = await host.post(chat, text);
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return events.next(chat, 90_000);
    };

    /** The host file, the folder behind the planted archive link, and the dangling target. */
    const expectHostUntouched = () => {
      expect(fs.readFileSync(victim, 'utf8')).toBe(`${SECRET}\n`);
      expect(fs.statSync(victim).mode & 0o777).toBe(0o640);
      expect(fs.readdirSync(victimDir)).toEqual([]);
      expect(fs.existsSync(dangling)).toBe(false);
      for (const req of model.requests) {
        expect(JSON.stringify(req.body?.system ?? '')).not.toContain(SECRET);
      }
    };

    it('a planted and flipping MEMORY.md and archive folder are never followed', async () => {
      expect(await say('family', 'PLANT-AND-RACE')).toBe('done');
      for (let i = 0; i < 6; i++) expect(await say('family', `hello ${i}`)).toBe('ok');
      fs.writeFileSync(path.join(data, 'groups', 'family', 'stop-racer'), '');
      expectHostUntouched();
      // The group's memory template was never written through the link either.
      const memory = path.join(data, 'groups', 'family', 'MEMORY.md');
      const st = fs.lstatSync(memory, { throwIfNoEntry: false });
      if (st && !st.isSymbolicLink()) expect(fs.readFileSync(memory, 'utf8')).not.toContain(SECRET);
    }, 300_000);

    it("a path rule is not bypassed through the agent's own link", async () => {
      const before = model.requests.length;
      expect(await say('family', 'LINK-BYPASS')).toBe('done');
      type Block = { type: string; content?: unknown; is_error?: boolean };
      const results = model.requests
        .slice(before)
        .flatMap((r) => {
          const content = r.body?.messages?.at(-1)?.content;
          return Array.isArray(content) ? (content as Block[]) : [];
        })
        .filter((b) => b.type === 'tool_result');
      const read = results.at(-1)!;
      expect(read.is_error).toBe(true);
      expect(JSON.stringify(read.content)).toMatch(
        /ok\/pin.txt leads to \/workspace\/group\/secret\/pin.txt/,
      );
      expect(JSON.stringify(results)).not.toContain('PIN-5521');
    }, 300_000);

    it('the admin cell racing the global MEMORY.md never gets a host file read or written', async () => {
      const adminFolder = path.join(data, 'groups', 'main');
      const adminReply = say('owner', 'GLOBAL-RACE');
      await waitForFile(path.join(adminFolder, 'racer-started'), 90_000);
      // Other groups' runs read the global memory while the admin cell flips it, for at least
      // four runs and at least 100 flips, however slow the cell is on this machine.
      const progress = path.join(adminFolder, 'racer-progress');
      const flips = () => (fs.existsSync(progress) ? Number(fs.readFileSync(progress, 'utf8')) : 0);
      const deadline = Date.now() + 80_000;
      for (let i = 0; i < 4 || (i < 40 && flips() < 100 && Date.now() < deadline); i++) {
        expect(await say('family', `during race ${i}`)).toBe('ok');
      }
      expect(fs.existsSync(path.join(adminFolder, 'racer-done'))).toBe(false);
      fs.writeFileSync(path.join(adminFolder, 'stop-racer'), '');
      expect(await adminReply).toBe('done');
      expect(Number(fs.readFileSync(path.join(adminFolder, 'racer-done'), 'utf8'))).toBeGreaterThan(
        100,
      );
      expectHostUntouched();
      // The assistant still answers in the admin chat.
      expect(await say('owner', 'still there?')).toBe('ok');
    }, 300_000);
  });
}

/** Resolve when `file` exists: the racer's own readiness signal. */
async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
