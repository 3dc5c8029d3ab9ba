import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const SECRET = 'Zq8xR2pLm9Wv4Ty7Kd3nB5';
/** Every 4-character piece of the secret. */
const pieces = [...Array(SECRET.length - 3).keys()].map((i) => SECRET.slice(i, i + 4));

/**
 * The owner's credentials file and policy file are malformed, with a secret in them. The real
 * CLI runs a turn (the model calls a tool, so the policy and the egress grant are loaded),
 * then `policy check`: no piece of the secret reaches the terminal, the log, the audit log,
 * or anything sent to the model (what the model sees, the chat sees).
 */
describe('malformed secret files', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let configDir: string;
  const write = (rel: string, text: string) => {
    const file = path.join(configDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const everythingSeen = (outputs: string[]) => {
    const data = env.NANOCELL_HOME!;
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
    return [
      ...outputs,
      read(path.join(data, 'logs', 'nanocell.log')),
      read(path.join(data, 'audit', 'audit.log')),
      JSON.stringify(model.requests.map((r) => r.body)),
    ].join('\n');
  };

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(() => {
    model.reset();
    home = tempHome();
    configDir = path.join(home.dir, 'config');
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: configDir,
    };
  });
  afterEach(() => home.cleanup());

  it('a credentials file that is not JSON leaks nothing of its secret', async () => {
    write('policy/groups/main.policy', 'allow http domain="api.mail.example"\n');
    write(
      'credentials/main.json',
      `[{"name": "mail", "host": "api.mail.example", "secret": Bearer ${SECRET}}]`,
    );
    model.enqueue(reply().tool('list_tasks', {}), reply().text('done'));
    const asked = await runCli(['ask', 'check my mail'], env);
    expect(asked.code, asked.stderr).toBe(0);
    const seen = everythingSeen([asked.stdout, asked.stderr]);
    expect(seen).toMatch(/egress not granted: policy errors/);
    expect(seen).toMatch(/main\.json: not valid JSON at line 1, column \d+/);
    for (const piece of pieces) expect(seen).not.toContain(piece);
  });

  it('a policy file with a pasted token leaks nothing of it to the model, the log or policy check', async () => {
    const file = write('policy/default.policy', `deny bash command="rm *"\nghp_${SECRET}\n`);
    model.enqueue(reply().tool('list_tasks', {}), reply().text('denied, sorry'));
    const asked = await runCli(['ask', 'list my tasks'], env);
    expect(asked.code, asked.stderr).toBe(0);
    const checked = await runCli(['policy', 'check', file], env);
    expect(checked.code).toBe(1);
    expect(checked.stdout + checked.stderr).toMatch(
      /default\.policy:2: unknown effect in the first word/,
    );
    const seen = everythingSeen([asked.stdout, asked.stderr, checked.stdout, checked.stderr]);
    // The model was told the call was denied and why, with the file and line.
    expect(JSON.stringify(model.requests.map((r) => r.body))).toMatch(
      /policy files have errors \(default\.policy:2: unknown effect/,
    );
    for (const piece of pieces) expect(seen).not.toContain(piece);
  });
});
