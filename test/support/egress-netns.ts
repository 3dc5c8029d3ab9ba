/**
 * A small private internet for end-to-end egress tests, on no real network: the host process
 * runs in a network namespace of the test's own, wired by a veth pair to a second namespace
 * that holds the "public" upstream at 1.2.3.4 (plain HTTP on 80, 8080 and 8081, HTTPS on
 * 443 with a certificate made for the test and trusted by the host through
 * NODE_EXTRA_CA_CERTS). Nothing leaves the two namespaces; the fake model in the test's own
 * namespace is reached through a unix-socket relay. Needs root and `ip netns`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { startFakeModelServer, type FakeModelServer } from './fake-model-server.js';
import { CLI, REPO_ROOT } from './run-cli.js';
import { tempHome } from './temp-home.js';

export const canRunNetns =
  process.getuid?.() === 0 &&
  spawnSync('ip', ['netns', 'list']).status === 0 &&
  spawnSync('bwrap', ['--version']).status === 0 &&
  spawnSync('openssl', ['version']).status === 0;

export const UPSTREAM_ADDRESS = '1.2.3.4';

/** One request the upstream saw. */
export interface UpstreamRequest {
  port: number;
  method: string;
  url: string;
  host: string;
  auth: string | null;
  /** Only for a request the extra upstream module answered: every header it carried. */
  headers?: Record<string, string>;
}

export interface EgressNetnsOptions {
  /**
   * A CommonJS module the upstream asks first: it exports `(req, res, port) => boolean`,
   * true when it answered (a fake API speaking some service's wire format).
   */
  upstreamModule?: string;
}

export interface EgressNetns {
  model: FakeModelServer;
  /** The owner's config dir: write policy/ and credentials/ here before asking. */
  configDir: string;
  dataDir: string;
  /** `./nanocell ask TEXT` as a process inside the host namespace. */
  ask(
    text: string,
    extraEnv?: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Every request the upstream has answered so far, in order. */
  seen(): UpstreamRequest[];
  /** The audit log's egress records. */
  egressAudit(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

function sh(args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

/** `names` all resolve to the upstream inside the host namespace; its certificate covers them. */
export async function startEgressNetns(
  names: string[],
  options: EgressNetnsOptions = {},
): Promise<EgressNetns> {
  const tag = `nc${process.pid}${Math.random().toString(36).slice(2, 5)}`.slice(0, 10);
  const nsHost = `${tag}h`;
  const nsUp = `${tag}u`;
  const home = tempHome();
  const children: ChildProcess[] = [];
  const model = await startFakeModelServer();

  /** Start a program inside a namespace and wait for its first stdout line. */
  const inNetns = async (ns: string, args: string[]): Promise<string> => {
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
  };

  const socket = path.join(home.dir, 'model.sock');
  const relay = net.createServer((c) => {
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
  sh(['ip', '-n', nsUp, 'addr', 'add', `${UPSTREAM_ADDRESS}/24`, 'dev', `${tag}b`]);
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
    `127.0.0.1 localhost\n${names.map((n) => `${UPSTREAM_ADDRESS} ${n}`).join('\n')}\n`,
  );

  const key = path.join(home.dir, 'upstream-key.pem');
  const cert = path.join(home.dir, 'upstream-cert.pem');
  sh([
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    `/CN=${names[0]}`,
    '-addext',
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
  ]);

  const upstreamLog = path.join(home.dir, 'upstream.log');
  const upstream = `
    const http = require('http'); const https = require('https'); const fs = require('fs');
    const extra = ${options.upstreamModule ? `require(${JSON.stringify(options.upstreamModule)})` : 'null'};
    const handler = (port) => (req, res) => {
      const answered = extra !== null && extra(req, res, port);
      fs.appendFileSync(${JSON.stringify(upstreamLog)}, JSON.stringify({ port, method: req.method, url: req.url, host: req.headers.host, auth: req.headers.authorization || null, ...(answered ? { headers: req.headers } : {}) }) + '\\n');
      if (answered) return;
      // A page in Latin-1 with markup around its text, for web_fetch.
      if (req.url === '/article.html') {
        res.setHeader('content-type', 'text/html; charset=iso-8859-1');
        return res.end(Buffer.from('<html><head><title>Caf\\xe9 notes</title><script>steal()</script></head><body><h1>Upstream ' + port + '</h1><p>Cr\\xe8me &amp; caf\\xe9</p></body></html>', 'latin1'));
      }
      res.end('upstream ' + port + ' answered ' + req.method + ' ' + req.url + '; you sent ' + (req.headers.authorization || 'nothing'));
    };
    const tls = { key: fs.readFileSync(${JSON.stringify(key)}), cert: fs.readFileSync(${JSON.stringify(cert)}) };
    let up = 0;
    const ready = () => { if (++up === 4) console.log('ready'); };
    for (const port of [80, 8080, 8081]) http.createServer(handler(port)).listen(port, '${UPSTREAM_ADDRESS}', ready);
    https.createServer(tls, handler(443)).listen(443, '${UPSTREAM_ADDRESS}', ready);`;
  await inNetns(nsUp, [process.execPath, '-e', upstream]);
  const forwarder = path.join(REPO_ROOT, 'dist', 'cells', 'egress-forwarder.js');
  const ready = await inNetns(nsHost, [process.execPath, forwarder, socket, '0']);
  const modelPort = (JSON.parse(ready) as { port: number }).port;

  const configDir = path.join(home.dir, 'config');
  const dataDir = path.join(home.dir, 'data');
  fs.mkdirSync(path.join(configDir, 'policy', 'groups'), { recursive: true });
  fs.mkdirSync(path.join(configDir, 'credentials'), { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ANTHROPIC_API_KEY: 'x',
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${modelPort}`,
    NANOCELL_HOME: dataDir,
    NANOCELL_CONFIG_DIR: configDir,
    NANOCELL_RUNTIME: 'bwrap',
    // bwrap refuses a rootfs reached through a symlink (a checkout may link build/).
    NANOCELL_CELL_ROOTFS: fs.realpathSync(path.join(REPO_ROOT, 'build', 'cell-rootfs')),
    NANOCELL_MODEL_MAX_RETRIES: '0',
    // The test's own CA, as a user would trust a company CA: the proxy verifies against it.
    NODE_EXTRA_CA_CERTS: cert,
  };

  return {
    model,
    configDir,
    dataDir,
    ask: (text, extraEnv = {}) =>
      new Promise((resolve) => {
        const child = spawn('ip', ['netns', 'exec', nsHost, CLI, 'ask', text], {
          cwd: REPO_ROOT,
          env: { ...env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      }),
    seen: () =>
      fs.existsSync(upstreamLog)
        ? fs
            .readFileSync(upstreamLog, 'utf8')
            .trim()
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as UpstreamRequest)
        : [],
    egressAudit: () =>
      fs
        .readFileSync(path.join(dataDir, 'audit', 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map((r) => (r.event ?? r) as Record<string, unknown>)
        .filter((e) => e.type === 'egress'),
    close: async () => {
      for (const c of children) if (c.pid !== undefined) c.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', nsHost]);
      spawnSync('ip', ['netns', 'del', nsUp]);
      fs.rmSync(`/etc/netns/${nsHost}`, { recursive: true, force: true });
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await model.close();
      home.cleanup();
    },
  };
}
