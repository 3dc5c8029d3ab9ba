import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where a container cell sees its tool socket's directory, mounted read-only. */
export const CELL_TOOL_SOCKET_DIR = '/run/nanocell-tool';
const SOCKET_NAME = 'tool.sock';
/** Directories are named for the host process that made them, so a dead one's can be found. */
const DIR_PREFIX = 'nanocell-tool-';
/** The tool server connects to the socket at this path instead of speaking on its stdio. */
export const CELL_TOOL_SOCKET_PATH = `${CELL_TOOL_SOCKET_DIR}/${SOCKET_NAME}`;
/** The tool server's environment variable that names the socket (tool-server.ts reads it). */
export const TOOL_SOCKET_ENV = 'NANOCELL_TOOL_SOCKET';
/** A unix socket path longer than this does not fit in sockaddr_un on Linux. */
const MAX_SOCKET_PATH = 107;

export type ToolConnection = { ok: true; socket: net.Socket } | { ok: false; reason: string };

/**
 * The host's end of a container cell's tool channel (issue 17): a unix socket the tool server
 * connects to, so its frames go host ↔ tool server directly instead of through the engine's
 * stdio attach (docker CLI → daemon → shim → process, and back, every frame).
 *
 * Exactly one connection is taken: the first (the tool server connects before anything else
 * in the cell runs). Then the listener closes and the socket file is unlinked, so no command
 * or MCP server in the cell can connect later and pose as the tool server; any other
 * connection is refused.
 */
export class ToolSocket {
  private removed = false;
  private constructor(
    /** The host directory to bind-mount read-only at CELL_TOOL_SOCKET_DIR. */
    readonly dir: string,
    /** The directory `dir` is in, removed with it. */
    private readonly outer: string,
    private readonly server: net.Server,
    /** The first connection, or why none came. */
    readonly connection: Promise<ToolConnection>,
    private readonly settle: (c: ToolConnection) => void,
  ) {}

  /**
   * Listen in a fresh private directory under `baseDir`, itself under an unguessable name in a
   * directory nobody but the host can list: both host-owned with search permission only
   * (0711). The socket is 0600 and owned by the cell's host uid. So only the cell's user can
   * connect, and only knowing the path, which only the cell is given: another cell of the same
   * uid that sees the host's /tmp (an extra mount) cannot find it to race the tool server.
   */
  static async listen(
    owner: { uid: number; gid: number },
    baseDir: string = os.tmpdir(),
  ): Promise<ToolSocket> {
    const prefix = `${DIR_PREFIX}${process.pid}-`;
    const tooLong =
      path.join(baseDir, `${prefix}XXXXXX`, '0'.repeat(32), SOCKET_NAME).length > MAX_SOCKET_PATH;
    const outer = fs.mkdtempSync(path.join(tooLong ? '/tmp' : baseDir, prefix));
    const dir = path.join(outer, crypto.randomBytes(16).toString('hex'));
    fs.mkdirSync(dir, { mode: 0o700 });
    const socketPath = path.join(dir, SOCKET_NAME);
    const server = net.createServer();
    let settle: (c: ToolConnection) => void = () => undefined;
    const connection = new Promise<ToolConnection>((resolve) => {
      let done = false;
      settle = (c) => {
        if (done) {
          if (c.ok) c.socket.destroy();
          return;
        }
        done = true;
        resolve(c);
      };
    });
    const socket = new ToolSocket(dir, outer, server, connection, settle);
    server.on('connection', (conn) => {
      socket.stopListening();
      settle({ ok: true, socket: conn });
    });
    server.on('error', (err) =>
      settle({ ok: false, reason: `tool socket failed: ${err.message}` }),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      fs.chmodSync(socketPath, 0o600);
      fs.chownSync(socketPath, owner.uid, owner.gid);
      fs.chmodSync(dir, 0o711);
      fs.chmodSync(outer, 0o711);
    } catch (err) {
      socket.close();
      throw err;
    }
    return socket;
  }

  /**
   * Remove the directories host processes that are gone left in `baseDir` (a crash, a kill -9)
   * and return how many; those of live processes are left alone.
   */
  static removeStale(baseDir: string = os.tmpdir()): number {
    let removed = 0;
    for (const name of fs.readdirSync(baseDir)) {
      const pid = Number(
        name.startsWith(DIR_PREFIX) ? name.slice(DIR_PREFIX.length).split('-')[0] : NaN,
      );
      if (!Number.isInteger(pid) || pid <= 0 || processExists(pid)) continue;
      const dir = path.join(baseDir, name);
      // Only our own directories: a link or a stranger's file of that name is left alone.
      const st = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (!st?.isDirectory() || st.uid !== (process.getuid?.() ?? st.uid)) continue;
      try {
        fs.rmSync(dir, { recursive: true, force: true });
        removed++;
      } catch {
        // Left for the next start: a stale, empty directory must not stop this one.
      }
    }
    return removed;
  }

  /** Stop taking connections and unlink the socket; the one connection taken stays open. */
  private stopListening(): void {
    if (this.server.listening) this.server.close();
    fs.rmSync(path.join(this.dir, SOCKET_NAME), { force: true });
  }

  /** Give up waiting (a start that failed): `connection` resolves with `reason`. */
  abandon(reason: string): void {
    this.settle({ ok: false, reason });
    this.stopListening();
  }

  /** Stop listening and remove the directory; once, however often it is called. */
  close(): void {
    this.abandon('the cell was removed');
    if (this.removed) return;
    this.removed = true;
    fs.rmSync(this.outer, { recursive: true, force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
