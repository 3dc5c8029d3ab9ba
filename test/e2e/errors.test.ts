import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  hang,
  httpError,
  reply,
  startFakeModelServer,
  type FakeModelServer,
} from '../support/fake-model-server.js';
import { REPO_ROOT, runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** The real CLI process against the fake model; every failure is a clear message and exit 1. */
describe('ask reports what cannot be used, and loses nothing', () => {
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
    env = { ANTHROPIC_API_KEY: 'x', ANTHROPIC_BASE_URL: model.url, NANOCELL_HOME: home.dir };
  });
  afterEach(() => home.cleanup());

  it('says the API key is missing, without calling the model', async () => {
    const { ANTHROPIC_API_KEY: _omit, ...noKey } = env;
    const r = await runCli(['ask', 'hello'], noKey);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ANTHROPIC_API_KEY is not set');
    expect(model.requests).toHaveLength(0);
  });

  it('lists every invalid setting and exits 2', async () => {
    const r = await runCli(['ask', 'hello'], {
      ...env,
      ANTHROPIC_BASE_URL: 'not a url',
      NANOCELL_RUNTIME: 'lxc',
      NANOCELL_TOOL_TIMEOUT_MS: '-1',
    });
    expect(r.code).toBe(2);
    for (const name of ['ANTHROPIC_BASE_URL', 'NANOCELL_RUNTIME', 'NANOCELL_TOOL_TIMEOUT_MS']) {
      expect(r.stderr).toContain(name);
    }
  });

  it('reports a rejected key (401) without retrying, and answers the saved message next time', async () => {
    model.enqueue(httpError(401));
    const first = await runCli(['ask', 'remember the milk'], env);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('rejected the API key (HTTP 401)');
    expect(first.stderr).toContain('your message is saved');
    expect(model.requests).toHaveLength(1);

    model.enqueue(reply().text('noted both'));
    const second = await runCli(['ask', 'and the eggs'], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe('noted both');
    const lastUser = JSON.stringify(model.requests[1]!.body!.messages!.at(-1));
    expect(lastUser).toContain('remember the milk');
    expect(lastUser).toContain('and the eggs');
  });

  it('retries a rate limit (429) and an overload (529) with backoff, then answers', async () => {
    model.enqueue(httpError(429), httpError(529), reply().text('made it'));
    const r = await runCli(['ask', 'hello'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('made it');
    expect(model.requests).toHaveLength(3);
  });

  it('gives up on a server that keeps failing (500) after the configured retries', async () => {
    model.enqueue(httpError(500), httpError(500), httpError(500));
    const r = await runCli(['ask', 'hello'], { ...env, NANOCELL_MODEL_MAX_RETRIES: '2' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 500');
    expect(model.requests).toHaveLength(3);
  });

  it('times out a model that hangs', async () => {
    model.enqueue(hang());
    const r = await runCli(['ask', 'hello'], {
      ...env,
      NANOCELL_MODEL_TIMEOUT_MS: '500',
      NANOCELL_MODEL_MAX_RETRIES: '0',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('did not answer within 500 ms');
  });

  it('says how to install a cell runtime when none is present', async () => {
    // PATH without bwrap or docker; node is run by its absolute path.
    const r = await runCli(
      ['ask', 'hello'],
      { ...env, PATH: '/nonexistent' },
      {
        command: [process.execPath, path.join(REPO_ROOT, 'dist', 'main.js')],
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no cell runtime is usable');
    expect(r.stderr).toContain('apt-get install -y bubblewrap');
    expect(r.stderr).toContain('apt-get install -y docker.io');
    expect(model.requests).toHaveLength(0);
  });

  it('says so when the chosen runtime cannot be used', async () => {
    const r = await runCli(['ask', 'hello'], {
      ...env,
      NANOCELL_RUNTIME: 'bwrap',
      NANOCELL_CELL_ROOTFS: path.join(home.dir, 'no-rootfs'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NANOCELL_RUNTIME=bwrap');
    expect(r.stderr).toContain('build-cell-image.sh');
  });

  it('doctor reports the store, the model endpoint and each runtime on one line each', async () => {
    const r = await runCli(['doctor'], env);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok {3}store: .*nanocell\.db \(schema \d+/);
    expect(lines[1]).toMatch(/^ok {3}model: .* answers/);
    expect(lines.some((l) => /runtime bwrap: /.test(l))).toBe(true);
    expect(lines.some((l) => /runtime docker: /.test(l))).toBe(true);
    expect(lines.filter((l) => l.includes('[selected]'))).toHaveLength(1);
    expect(r.code).toBe(0);
  });

  it('doctor fails on an unreachable model endpoint', async () => {
    const r = await runCli(['doctor'], { ...env, ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL model: .*Cannot reach/m);
  });
});
