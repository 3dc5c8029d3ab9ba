import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { CLI, REPO_ROOT } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/**
 * The allowed path through the real proxy, end to end: the host process runs in a network
 * namespace of the test's own, wired by a veth pair to a second namespace that holds the
 * "public" API at 1.2.3.4. Nothing leaves the two namespaces; the fake model in the test's
 * namespace is reached through a unix-socket relay.
 */
const canRun =
  process.getuid?.() === 0 &&
  spawnSync('ip', ['netns', 'list']).status === 0 &&
  spawnSync('bwrap', ['--version']).status === 0;

const MAIL_SECRET = 'Bearer mail-secret-e2e-4471';
type Block = { type: string; content?: string; is_error?: boolean };

function sh(args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

describe.skipIf(!canRun && !process.env.CI)(
  'egress that the policy allows, through the real proxy',
  () => {
    const tag = `nc${process.pid}`;
    const nsHost = `${tag}h`;
    const nsUp = `${tag}u`;
    let model: FakeModelServer;
    let relay: net.Server;
    let home: ReturnType<typeof tempHome>;
    const children: ChildProcess[] = [];
    let upstreamLog: string;
    let modelPort = 0;
    let env: Record<string, string>;

    /** Start a program inside a namespace and wait for its first stdout line. */
    async function inNetns(ns: string, args: string[]): Promise<string> {
      const child = spawn('ip', ['netns', 'exec', ns, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const rl = readline.createInterface({ input: child.stdout! });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      return new Promise((resolve, reject) => {
        rl.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
      });
    }

    beforeAll(async () => {
      home = tempHome();
      model = await startFakeModelServer();
      const socket = path.join(home.dir, 'model.sock');
      relay = net.createServer((c) => {
        const up = net.connect(Number(new URL(model.url).port), '127.0.0.1');
        c.pipe(up).pipe(c);
        c.on('error', () => up.destroy());
        up.on('error', () => c.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(socket, resolve));

      sh(['ip', 'netns', 'add', nsHost]);
      sh(['ip', 'netns', 'add', nsUp]);
      sh(['ip', 'link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`]);
      sh(['ip', 'link', 'set', `${tag}a`, 'netns', nsHost]);
      sh(['ip', 'link', 'set', `${tag}b`, 'netns', nsUp]);
      sh(['ip', '-n', nsHost, 'addr', 'add', '1.2.3.1/24', 'dev', `${tag}a`]);
      sh(['ip', '-n', nsUp, 'addr', 'add', '1.2.3.4/24', 'dev', `${tag}b`]);
      for (const [ns, dev] of [
        [nsHost, `${tag}a`],
        [nsUp, `${tag}b`],
      ] as const) {
        sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
        sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      }
      // `ip netns exec` shows /etc/netns/NAME/hosts as /etc/hosts inside the namespace.
      fs.mkdirSync(`/etc/netns/${nsHost}`, { recursive: true });
      fs.writeFileSync(
        `/etc/netns/${nsHost}/hosts`,
        '127.0.0.1 localhost\n1.2.3.4 api.mail.example\n',
      );

      upstreamLog = path.join(home.dir, 'upstream.log');
      const upstream = `
      const http = require('http'); const fs = require('fs');
      http.createServer((req, res) => {
        fs.appendFileSync(${JSON.stringify(upstreamLog)}, JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization || null }) + '\\n');
        res.end('inbox: 3 messages; you sent ' + (req.headers.authorization || 'nothing'));
      }).listen(80, '1.2.3.4', () => console.log('ready'));`;
      await inNetns(nsUp, [process.execPath, '-e', upstream]);
      const forwarder = path.join(REPO_ROOT, 'dist', 'cells', 'egress-forwarder.js');
      const ready = await inNetns(nsHost, [process.execPath, forwarder, socket, '0']);
      modelPort = (JSON.parse(ready) as { port: number }).port;

      const configDir = path.join(home.dir, 'config');
      fs.mkdirSync(path.join(configDir, 'policy', 'groups'), { recursive: true });
      fs.writeFileSync(
        path.join(configDir, 'policy', 'groups', 'main.policy'),
        'allow http domain="api.mail.example" port=80\n',
      );
      fs.mkdirSync(path.join(configDir, 'credentials'), { recursive: true });
      fs.writeFileSync(
        path.join(configDir, 'credentials', 'main.json'),
        JSON.stringify([
          { name: 'mail', host: 'api.mail.example', header: 'authorization', secret: MAIL_SECRET },
        ]),
      );
      env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        ANTHROPIC_API_KEY: 'x',
        ANTHROPIC_BASE_URL: `http://127.0.0.1:${modelPort}`,
        NANOCELL_HOME: path.join(home.dir, 'data'),
        NANOCELL_CONFIG_DIR: configDir,
        NANOCELL_RUNTIME: 'bwrap',
        NANOCELL_MODEL_MAX_RETRIES: '0',
      };
    });

    afterAll(async () => {
      for (const c of children) c.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', nsHost]);
      spawnSync('ip', ['netns', 'del', nsUp]);
      fs.rmSync(`/etc/netns/${nsHost}`, { recursive: true, force: true });
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await model.close();
      home.cleanup();
    });

    function ask(text: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        const child = spawn('ip', ['netns', 'exec', nsHost, CLI, 'ask', text], {
          cwd: REPO_ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    }

    it('reaches the allowed API, with the secret added by the proxy and never seen by the cell', async () => {
      model.enqueue(
        reply().tool('bash', {
          command:
            'echo "placeholder=$NANOCELL_CRED_MAIL"; curl -s --max-time 10 -H "authorization: $NANOCELL_CRED_MAIL" http://api.mail.example/v1/messages/inbox; echo; curl -s -o /dev/null -w "other=%{http_code}" --max-time 10 http://api.other.example/',
        }),
        reply().text('you have 3 messages'),
      );
      const r = await ask('how many mails?');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('you have 3 messages');
      const [result] = (model.requests[1]!.body!.messages!.at(-1)!.content as Block[]).filter(
        (b) => b.type === 'tool_result',
      );
      const out = result!.content!;
      expect(out).toMatch(/placeholder=nanocell-cred-mail-[0-9a-f]+/);
      // The upstream saw the secret; the cell only ever saw its placeholder echoed back.
      expect(out).toContain('inbox: 3 messages; you sent nanocell-cred-mail-');
      expect(out).not.toContain(MAIL_SECRET);
      expect(out).toContain('other=403');
      const seen = fs
        .readFileSync(upstreamLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { auth: string; url: string });
      expect(seen).toEqual([{ method: 'GET', url: '/v1/messages/inbox', auth: MAIL_SECRET }]);
    });

    it('audits the allowed request and the refusal, without the secret', () => {
      const log = fs.readFileSync(path.join(env.NANOCELL_HOME!, 'audit', 'audit.log'), 'utf8');
      expect(log).toMatch(/"type":"egress".*"host":"api\.mail\.example".*"decision":"allowed"/);
      expect(log).toMatch(/"type":"egress".*"host":"api\.other\.example".*"decision":"denied"/);
      expect(log).not.toContain(MAIL_SECRET);
    });

    it('records no request to anything but the allowed API', () => {
      const seen = fs.readFileSync(upstreamLog, 'utf8').trim().split('\n');
      expect(seen).toHaveLength(1);
    });
  },
);
