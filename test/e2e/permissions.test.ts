import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  reply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

type Block = { type: string; content?: string; is_error?: boolean };
const results = (req: RecordedRequest): Block[] =>
  (req.body!.messages!.at(-1)!.content as Block[]).filter((b) => b.type === 'tool_result');

/** Policy rules, approvals in chat, budgets and the audit log, through the real CLI and host. */
describe('permissions beyond the sandbox', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let configDir: string;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  const writePolicy = (file: string, text: string) => {
    const full = path.join(configDir, 'policy', file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
  };

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(async () => {
    model.reset();
    home = tempHome();
    configDir = path.join(home.dir, 'owner-config');
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: configDir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
    };
    expect(
      (await runCli(['groups', 'add', 'family', '--chat', 'web:family', '--no-trigger'], env)).code,
    ).toBe(0);
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  it('denies a call a rule denies; the agent sees a tool error and carries on; the audit log names the rule', async () => {
    writePolicy('groups/main.policy', '# no deleting\ndeny bash command="rm *"\n');
    model.enqueue(
      reply()
        .tool('bash', { command: 'echo keep > keep.txt' })
        .tool('bash', { command: 'rm keep.txt' }),
      reply().text('could not delete'),
    );
    const r = await runCli(['ask', 'tidy up'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('could not delete');
    const [write, rm] = results(model.requests[1]!);
    expect(write!.is_error).toBeUndefined();
    expect(rm!.is_error).toBe(true);
    expect(rm!.content).toContain("Denied by the owner's policy");
    expect(fs.existsSync(path.join(env.NANOCELL_HOME!, 'groups', 'main', 'keep.txt'))).toBe(true);

    const tail = await runCli(['audit', 'tail', '-n', '50'], env);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/tool_call .*bash.*deny.*groups\/main\.policy:2/);
    expect(tail.stdout).toMatch(/policy_change/);
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/audit log intact: \d+ records/);
  });

  it('asks the owner in the admin chat; "yes CODE" runs that exact call once', async () => {
    writePolicy('groups/family.policy', 'ask write_file path="/workspace/group/shared/**"\n');
    host = await startHost(env);
    const events = await host.subscribe();
    await host.post('owner', 'hello'); // the owner's chat is where approvals are asked
    model.enqueue(reply().text('hi'));
    expect(await events.next('owner')).toBe('hi');

    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic' }),
      reply().text('written'),
    );
    await host.post('family', 'write the plan');
    const question = await events.next('owner');
    expect(question).toContain('family');
    expect(question).toContain('write_file');
    expect(question).toContain('shared/plan.txt');
    const code = /\b([A-Z2-9]{6})\b/.exec(question)?.[1];
    expect(code).toBeDefined();
    await host.post('owner', `yes ${code}`);
    expect(await events.next('owner')).toMatch(/^Approved/);
    expect(await events.next('family')).toBe('written');
    expect(
      fs.readFileSync(
        path.join(env.NANOCELL_HOME!, 'groups', 'family', 'shared', 'plan.txt'),
        'utf8',
      ),
    ).toBe('picnic');

    // Single use: the same call asks again, and "no" is a denial the agent sees.
    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic' }),
      reply().text('not allowed'),
    );
    await host.post('family', 'write it again');
    const second = await events.next('owner');
    const code2 = /\b([A-Z2-9]{6})\b/.exec(second)?.[1];
    expect(code2).not.toBe(code);
    await host.post('owner', `no ${code2}`);
    expect(await events.next('owner')).toMatch(/^Denied/);
    expect(await events.next('family')).toBe('not allowed');
    const denied = results(model.requests.at(-1)!);
    expect(denied[0]!.is_error).toBe(true);
    expect(denied[0]!.content).toContain('owner said no');
    events.close();

    const tail = await runCli(['audit', 'tail', '-n', '100'], env);
    expect(tail.stdout).toMatch(/approval .*asked/);
    expect(tail.stdout).toMatch(/approval .*granted/);
    expect(tail.stdout).toMatch(/approval .*denied/);
  });

  it('treats an approval that expires as a denial', async () => {
    writePolicy('default.policy', 'ask bash\n');
    host = await startHost({ ...env, NANOCELL_APPROVAL_TTL_MS: '300' });
    const events = await host.subscribe();
    model.enqueue(reply().tool('bash', { command: 'date' }), reply().text('gave up'));
    await host.post('family', 'what day is it?');
    expect(await events.next('family')).toBe('gave up');
    events.close();
    expect(results(model.requests[1]!)[0]!.content).toContain('did not approve this call in time');
  });

  it('stops a run that goes over its tool-call budget and says so in the chat', async () => {
    host = await startHost({ ...env, NANOCELL_BUDGET_TOOL_CALLS: '2' });
    const events = await host.subscribe();
    model.enqueue(
      reply()
        .tool('bash', { command: 'true' })
        .tool('bash', { command: 'true' })
        .tool('bash', { command: 'true' }),
    );
    await host.post('family', 'loop forever');
    expect(await events.next('family')).toMatch(/Sorry, I could not answer that: .*2 tool calls/);
    events.close();
    expect(model.requests).toHaveLength(1);
  });

  it("holds a task's runs to the task's own, tighter budget", async () => {
    host = await startHost({ ...env, NANOCELL_SCHEDULER_TICK_MS: '100' });
    const events = await host.subscribe();
    const at = new Date(Date.now() + 1500).toISOString();
    model.enqueue(
      reply().tool('schedule_task', {
        prompt: 'tidy the notes',
        schedule: { kind: 'once', at },
        budget: { tool_calls: 1 },
      }),
      reply().text('scheduled'),
    );
    await host.post('owner', 'tidy my notes in a moment');
    expect(await events.next('owner')).toBe('scheduled');
    model.enqueue(reply().tool('bash', { command: 'true' }).tool('bash', { command: 'true' }));
    expect(await events.next('owner')).toMatch(
      /^\[task #1: tidy the notes\] failed: .*task #1.*1 tool call/,
    );
    events.close();
  });

  it('policy check reports errors with line numbers; explain shows the deciding rule', async () => {
    const bad = path.join(home.dir, 'bad.policy');
    fs.writeFileSync(
      bad,
      'allow http domain="api.github.com" method=GET\nmaybe bash\ndeny read_file colour="red"\n',
    );
    const check = await runCli(['policy', 'check', bad], env);
    expect(check.code).toBe(1);
    expect(check.stdout + check.stderr).toMatch(/bad\.policy:2: /);
    expect(check.stdout + check.stderr).toMatch(/bad\.policy:3: /);

    writePolicy(
      'groups/family.policy',
      'allow http domain="api.github.com" method=GET path="/repos/**"\n',
    );
    const explain = await runCli(
      [
        'policy',
        'explain',
        '--group',
        'family',
        '--tool',
        'http',
        '--input',
        '{"domain":"api.github.com","method":"GET","path":"/repos/x/y"}',
      ],
      env,
    );
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/allow/);
    expect(explain.stdout).toContain('groups/family.policy:1');
  });

  it('audit verify detects an edited record', async () => {
    model.enqueue(reply().tool('bash', { command: 'true' }), reply().text('ok'));
    expect((await runCli(['ask', 'hi'], env)).code).toBe(0);
    const logFile = path.join(env.NANOCELL_HOME!, 'audit', 'audit.log');
    const lines = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    lines[1] = lines[1]!.replace(/"pid":\d+|"tool":"bash"/, (m) =>
      m.startsWith('"pid"') ? '"pid":1' : '"tool":"read_file"',
    );
    fs.writeFileSync(logFile, `${lines.join('\n')}\n`);
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code).toBe(1);
    expect(verify.stdout + verify.stderr).toContain('TAMPERED');
  });
});
