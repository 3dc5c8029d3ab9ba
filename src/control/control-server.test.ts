import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatSink, ChatStream, ChatSurface } from './chat-session.js';
import { ControlClient, HostGoneError } from './control-client.js';
import { ControlServer, type ControlHandlers } from './control-server.js';
import { controlDir, controlSocketPath, MAX_REQUEST_BYTES } from './protocol.js';

const log = pino({ level: 'silent' });

/** A chat surface that answers each message by sending "echo: TEXT" to the chat. */
function echoSurface(): ChatSurface & { said: string[] } {
  const said: string[] = [];
  return {
    said,
    async open(groupName, sink: ChatSink, stream?: ChatStream) {
      if (groupName === 'nope') return { ok: false, error: 'no group named "nope" (groups: main)' };
      const group = groupName ?? 'main';
      return {
        ok: true,
        session: {
          groupName: group,
          runtimeName: 'fake',
          assistantName: 'Andy',
          ended: new Promise<string>(() => {}),
          async say(text) {
            said.push(text);
            // A reply written in pieces (one very long, with an emoji across a frame cut).
            if (text === 'stream') {
              stream?.(group, `${'a'.repeat(49_999)}😀${'b'.repeat(60_000)}`);
              stream?.(group, ' end');
            }
            sink(group, `echo: ${text}`);
            return { kind: 'answered' };
          },
          close() {},
        },
      };
    },
  };
}

/** Sends raw bytes and collects every line the server sends until it closes. */
function rawExchange(socketPath: string, bytes: string | Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\n').filter((l) => l !== '')));
    socket.write(bytes);
  });
}

describe('ControlServer and ControlClient', () => {
  let home: string;
  let server: ControlServer | undefined;
  let surface: ReturnType<typeof echoSurface>;
  const commands: Array<{ command: string; args: string[] }> = [];
  const handlers = (): ControlHandlers => ({
    async runCommand(command, args, out, err) {
      commands.push({ command, args });
      if (command === 'crash') throw new Error('disk on fire');
      if (command === 'fail') {
        err.write('bad things\n');
        return 1;
      }
      out.write(`ran ${command} ${args.join(' ')}\n`);
      return 0;
    },
    chat: surface,
    onError: (message) => errors.push(message),
  });
  const errors: string[] = [];

  beforeEach(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-ctl-'));
    surface = echoSurface();
    commands.length = 0;
    errors.length = 0;
    server = await ControlServer.listen(home, handlers(), log);
  });
  afterEach(async () => {
    await server?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const text = () => {
    let s = '';
    return { write: (t: string) => (s += t), get: () => s };
  };

  it('carries a streamed reply to the chat in bounded frames, intact, before the whole reply', async () => {
    const client = (await ControlClient.connect(home))!;
    const seen: string[] = [];
    let pieces = '';
    const opened = await client.chatSurface().open(
      undefined,
      (_chat, t) => seen.push(`message ${t}`),
      (_chat, t) => {
        pieces += t;
        seen.push('delta');
      },
    );
    if (!opened.ok) throw new Error(opened.error);
    expect(await opened.session.say('stream')).toEqual({ kind: 'answered' });
    expect(pieces).toBe(`${'a'.repeat(49_999)}😀${'b'.repeat(60_000)} end`);
    expect(seen.filter((s) => s === 'delta').length).toBeGreaterThan(2);
    expect(seen.at(-1)).toBe('message echo: stream');
    client.close();
  });

  it('listens on an owner-only socket in an owner-only folder', () => {
    expect(fs.statSync(controlDir(home)).mode & 0o777).toBe(0o700);
    const st = fs.statSync(controlSocketPath(home));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('runs a command in the host and streams its output and exit status back', async () => {
    const client = (await ControlClient.connect(home))!;
    const out = text();
    const err = text();
    expect(await client.run('groups', ['list'], out, err)).toBe(0);
    expect(out.get()).toBe('ran groups list\n');
    expect(await client.run('fail', [], out, err)).toBe(1);
    expect(err.get()).toBe('bad things\n');
    client.close();
    expect(commands).toEqual([
      { command: 'groups', args: ['list'] },
      { command: 'fail', args: [] },
    ]);
  });

  it('attaches a chat, sends each message through it and streams the chat back', async () => {
    const client = (await ControlClient.connect(home))!;
    const shown: string[] = [];
    const opened = await client
      .chatSurface()
      .open(undefined, (chatId, t) => shown.push(`${chatId}: ${t}`));
    if (!opened.ok) throw new Error(opened.error);
    expect(opened.session.groupName).toBe('main');
    expect(await opened.session.say('hello')).toEqual({ kind: 'answered' });
    expect(shown).toEqual(['main: echo: hello']);
    expect(surface.said).toEqual(['hello']);
    opened.session.close();
  });

  it('tells the client and the owner when a request fails inside the host', async () => {
    const client = (await ControlClient.connect(home))!;
    const err = text();
    expect(await client.run('crash', [], text(), err)).toBe(1);
    expect(err.get()).toBe('nanocell: the host could not do that: disk on fire\n');
    expect(errors).toEqual(['control request failed: disk on fire']);
  });

  it('ends an attached chat when the host stops, saying so', async () => {
    const client = (await ControlClient.connect(home))!;
    const opened = await client.chatSurface().open(undefined, () => {});
    if (!opened.ok) throw new Error(opened.error);
    await server!.close();
    server = undefined;
    expect(await opened.session.ended).toBe('the host closed the connection');
  });

  it('passes a refusal to open a chat back as a result', async () => {
    const client = (await ControlClient.connect(home))!;
    const opened = await client.chatSurface().open('nope', () => {});
    expect(opened).toEqual({ ok: false, error: 'no group named "nope" (groups: main)' });
    client.close();
  });

  it('tells a client that sends something other than a request why, and hangs up', async () => {
    expect(await rawExchange(controlSocketPath(home), 'not json\n')).toEqual([
      JSON.stringify({ type: 'error', message: 'bad request: not JSON' }),
    ]);
    const [line] = await rawExchange(controlSocketPath(home), '{"type":"shell","command":"id"}\n');
    expect(JSON.parse(line!)).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/^bad request/),
    });
    expect(commands).toEqual([]);
  });

  it('refuses a request line over its size limit without buffering it', async () => {
    const lines = await rawExchange(
      controlSocketPath(home),
      Buffer.alloc(MAX_REQUEST_BYTES + 10, 'x'),
    );
    expect(lines).toEqual([
      JSON.stringify({
        type: 'error',
        message: `a control frame was longer than ${MAX_REQUEST_BYTES} bytes`,
      }),
    ]);
  });

  it('replaces a socket left by a crashed owner, and a client sees a stopped host as gone', async () => {
    await server!.close();
    fs.mkdirSync(controlDir(home), { recursive: true });
    fs.writeFileSync(controlSocketPath(home), 'left over');
    expect(await ControlClient.connect(home)).toBeUndefined();
    server = await ControlServer.listen(home, handlers(), log);
    const client = (await ControlClient.connect(home))!;
    await server.close();
    server = undefined;
    await expect(client.run('status', [], text(), text())).rejects.toBeInstanceOf(HostGoneError);
  });
});
