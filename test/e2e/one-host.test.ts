import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCliSession, type CliSession } from '../support/cli-session.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { hostJson, startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const CODE = /\b([A-Z2-9]{6})\b/;
const userTexts = (model: FakeModelServer) =>
  model.requests.flatMap((r) =>
    (r.body?.messages ?? [])
      .filter((m) => m.role === 'user')
      .flatMap((m) =>
        typeof m.content === 'string'
          ? [m.content]
          : m.content.filter((b) => b.type === 'text').map((b) => String(b.text)),
      ),
  );

/** Issue 10's scenario: one host owns the data dir; chat, ask and status are its clients. */
describe('one host, many surfaces', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;
  let sessions: CliSession[];

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(async () => {
    model.reset();
    sessions = [];
    home = tempHome();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
      NANOCELL_SCHEDULER_TICK_MS: '200',
    };
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', 'web:family', '--no-trigger'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
  });
  afterEach(async () => {
    for (const s of sessions) if (s.child.exitCode === null) s.child.kill('SIGTERM');
    await Promise.all(sessions.map((s) => s.exited));
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  const session = (args: string[]) => {
    const s = startCliSession(args, env);
    sessions.push(s);
    return s;
  };

  it('answers ask and chat through the running host: one model call and one stored message each', async () => {
    host = await startHost(env);
    model.enqueue(reply().text('first answer'));
    const asked = await runCli(['ask', 'first question'], env);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toBe('first answer\n');
    expect(model.requests).toHaveLength(1);
    await host.waitForLine(/run finished: main \(terminal:main, 0 tool calls\)/);

    model.enqueue(reply().text('second answer'));
    const chatted = await runCli(['chat'], env, { input: 'second question\n/quit\n' });
    expect(chatted.code, chatted.stderr).toBe(0);
    expect(chatted.stdout).toContain('talking to Andy in group "main"');
    expect(chatted.stdout).toContain('Andy: second answer');
    expect(model.requests).toHaveLength(2);
    // The host's history holds each message once: the second request saw the first turn once.
    const texts = userTexts(model);
    expect(texts.filter((t) => t.includes('first question'))).toHaveLength(2); // request 1 and 2
    expect(
      model.requests[1]!.body!.messages!.filter((m) =>
        JSON.stringify(m).includes('first question'),
      ),
    ).toHaveLength(1);

    const status = await runCli(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`host: running (pid ${host.child.pid}`);
  });

  it('refuses a second start with a clear message and leaves the first one undisturbed', async () => {
    host = await startHost(env);
    const second = await runCli(['start'], { ...env, NANOCELL_WEB_PORT: '0' });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `nanocell is already running (pid ${host.child.pid}, ${host.url}`,
    );
    expect(second.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    expect(hostJson(env.NANOCELL_HOME!)?.pid).toBe(host.child.pid);
    const status = await runCli(['status'], env);
    expect(status.stdout).toContain(`host: running (pid ${host.child.pid}`);
    // And the first host still answers.
    model.enqueue(reply().text('still here'));
    const events = await host.subscribe();
    await host.post('owner', 'are you there?');
    expect(await events.next('owner')).toBe('still here');
    events.close();
  });

  it('asks the owner on the terminal chat for a web-chat group and honours "yes CODE" from there, once', async () => {
    fs.mkdirSync(path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/shared/**"\n',
    );
    host = await startHost(env);
    const events = await host.subscribe();
    const terminal = session(['chat']);
    await terminal.waitFor(/talking to Andy in group "main"/);

    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic' }),
      reply().text('written'),
    );
    await host.post('family', 'write the plan');
    expect(await terminal.waitFor(/Approval needed/)).toContain(
      'group "family" wants to use write_file',
    );
    const code = CODE.exec(await terminal.waitFor(/^Reply "yes [A-Z2-9]{6}"/))?.[1];
    expect(code).toBeDefined();
    // The same question reached the owner's web chat too.
    expect(await events.next('owner')).toContain(code!);
    await host.waitForLine(
      new RegExp(`approval asked: family wants write_file \\(code ${code}\\)`),
    );

    terminal.type(`yes ${code}`);
    expect(await terminal.waitFor(/Approved: write_file for family/)).toContain(code!);
    expect(await events.next('family')).toBe('written');
    expect(
      fs.readFileSync(
        path.join(env.NANOCELL_HOME!, 'groups', 'family', 'shared', 'plan.txt'),
        'utf8',
      ),
    ).toBe('picnic');
    await host.waitForLine(
      new RegExp(`approval answered: yes ${code} for family write_file \\(from terminal:main\\)`),
    );

    // The owner's web chat, which showed the question too, hears that it was answered.
    expect(await events.next('owner')).toBe(
      `Answered on terminal: Approved: write_file for family (${code}).`,
    );
    // A second answer, from another surface, counts for nothing.
    await host.post('owner', `no ${code}`);
    expect(await events.next('owner')).toBe(`approval ${code} was already answered (yes)`);
    events.close();
    terminal.type('/quit');
    expect(await terminal.exited).toBe(0);
  });

  it("puts a task's output in the chat it was scheduled from, labelled as the task's", async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    const family = session(['chat', '--group', 'family']);
    await family.waitFor(/talking to Andy in group "family"/);
    const at = new Date(Date.now() + 2500).toISOString();
    model.enqueue(
      reply().tool('schedule_task', {
        prompt: 'tell the family dinner is ready',
        schedule: { kind: 'once', at },
      }),
      reply().text('will do'),
    );
    family.type('remind us about dinner');
    await family.waitFor(/Andy: will do/);
    // Someone writes in the family's web chat since: it becomes the group's last chat, yet the
    // task answers where it was asked for.
    model.enqueue(reply().text('hello family'));
    await host.post('family', 'hi');
    expect(await events.next('family')).toBe('hello family');

    model.enqueue(reply().text('Dinner is ready!'));
    expect(await family.waitFor(/Dinner is ready!/)).toBe(
      'Andy: [task #1: tell the family dinner is ready] Dinner is ready!',
    );
    await host.waitForLine(/task #1 ran: family/);
    events.close();
  });

  it('refuses an unknown --group with the list of groups and creates nothing', async () => {
    const alone = await runCli(['ask', '--group', 'famliy', 'hi'], env);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('no group named "famliy" (groups: main, family)');
    host = await startHost(env);
    const through = await runCli(['chat', '--group', 'famliy'], env, { input: 'hi\n' });
    expect(through.code).toBe(2);
    expect(through.stderr).toContain('no group named "famliy" (groups: main, family)');
    const groups = await runCli(['groups', 'list'], env);
    expect(groups.stdout).not.toContain('famliy');
    expect(model.requests).toHaveLength(0);
  });

  it('lets a stand-alone chat own the data dir; start refuses while it runs, and status goes through it', async () => {
    const terminal = session(['chat']);
    await terminal.waitFor(/talking to Andy/);
    const refused = await runCli(['start'], { ...env, NANOCELL_WEB_PORT: '0' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`nanocell chat (pid `);
    expect(refused.stderr).toContain('quit it first, then start the host');
    const status = await runCli(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('host: held by a stand-alone `chat`');
    terminal.type('/quit');
    expect(await terminal.exited).toBe(0);
    host = await startHost(env);
  });

  it('changes groups through the running host, and a host killed with kill -9 leaves no lock', async () => {
    host = await startHost(env);
    const added = await runCli(
      ['groups', 'add', 'club', '--chat', 'web:club', '--no-trigger'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    const events = await host.subscribe();
    model.enqueue(reply().text('welcome'));
    await host.post('club', 'hello');
    expect(await events.next('club')).toBe('welcome');
    events.close();

    host.child.kill('SIGKILL');
    await host.exited;
    host = await startHost(env);
    const status = await runCli(['status'], env);
    expect(status.stdout).toContain(`host: running (pid ${host.child.pid}`);
  });

  it('ends an attached terminal chat with a clear message when the host stops', async () => {
    host = await startHost(env);
    const terminal = session(['chat']);
    await terminal.waitFor(/talking to Andy/);
    await host.stop();
    host = undefined;
    expect(await terminal.exited).toBe(1);
    expect(terminal.stderr()).toContain('nanocell: the chat ended: the host closed the connection');
    expect(terminal.stderr()).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('audits a change to a policy file when it happens, while the host runs', async () => {
    host = await startHost(env);
    const file = path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'deny bash command="rm *"\n');
    await host.waitForLine(/policy changed: groups\/family\.policy \(audited\)/);
    const tail = await runCli(['audit', 'tail', '-n', '20'], env);
    expect(tail.stdout).toMatch(/policy_change .*groups\/family\.policy/);
    expect(model.requests).toHaveLength(0);
  });

  it('prints only the address with --quiet', async () => {
    host = await startHost(env, ['start', '--quiet']);
    model.enqueue(reply().text('quiet answer'));
    const asked = await runCli(['ask', 'hello'], env);
    expect(asked.stdout).toBe('quiet answer\n');
    await host.stop();
    expect(host.stdoutLines().filter((l) => /run finished|approval|task #/.test(l))).toEqual([]);
    host = undefined;
  });
});
