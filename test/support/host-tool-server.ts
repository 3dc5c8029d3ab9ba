import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { StdioCell } from '../../src/cells/stdio-cell.js';

/** The MCP server fixture (plain Node, no SDK): `node fake-mcp-server.mjs MODE`. */
export const FAKE_MCP_SERVER = path.resolve(__dirname, 'fake-mcp-server.mjs');

/**
 * The tool server from its source, run as a plain child process on the host (no sandbox) and
 * attached as the host attaches a cell, so the host's frame bounds are the real ones.
 * Transpiled into a temp .mjs (as mounted in cells), never taken from dist/.
 */
export class HostToolServer {
  private readonly cells: StdioCell[] = [];

  private constructor(
    readonly dir: string,
    private readonly script: string,
  ) {}

  static create(): HostToolServer {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-host-tool-server-'));
    const source = fs.readFileSync(
      path.resolve(__dirname, '../../src/cells/tool-server.ts'),
      'utf8',
    );
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const script = path.join(dir, 'tool-server.mjs');
    fs.writeFileSync(script, outputText);
    return new HostToolServer(dir, script);
  }

  /** A cell whose workspace is `dir`; stopped by `stopCells`. */
  async cell(): Promise<StdioCell> {
    const child = spawn(process.execPath, [this.script], {
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const cell = await StdioCell.attach('host-test', child, {
      cleanup: async () => undefined,
      limits: { memoryMb: 256, pids: 64, cpus: 1, callTimeoutMs: 10_000, maxOutputBytes: 30_000 },
      startTimeoutMs: 10_000,
    });
    this.cells.push(cell);
    return cell;
  }

  async stopCells(): Promise<void> {
    await Promise.all(this.cells.splice(0).map((c) => c.stop()));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
