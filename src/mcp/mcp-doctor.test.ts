import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mcpDoctorLine } from './mcp-doctor.js';

describe("doctor's mcp.json line", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-mcp-doctor-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts the servers and their groups', () => {
    fs.writeFileSync(
      path.join(dir, 'mcp.json'),
      '{"servers": {"a": {"command": "x", "groups": ["main"]}, "b": {"command": "y", "groups": ["*"]}, "c": {"url": "https://mcp.example/mcp", "groups": ["main"]}}}',
    );
    expect(mcpDoctorLine(dir)).toEqual([
      true,
      'mcp.json',
      '3 servers: a (main), b (*), c at https://mcp.example/mcp (main)',
    ]);
  });

  it('says where the file would be when there is none', () => {
    expect(mcpDoctorLine(dir)).toEqual([
      true,
      'mcp.json',
      `no MCP servers (${path.join(dir, 'mcp.json')} lists them)`,
    ]);
  });

  it('fails with the line and key of each problem', () => {
    fs.writeFileSync(
      path.join(dir, 'mcp.json'),
      '{\n  "servers": {\n    "a": {"command": 1, "groups": ["main"]}\n  }\n}',
    );
    const [ok, what, detail] = mcpDoctorLine(dir);
    expect([ok, what]).toEqual([false, 'mcp.json']);
    expect(detail).toBe(
      `${path.join(dir, 'mcp.json')} line 3: servers.a.command: must be the program to run in the cell, e.g. "node"`,
    );
  });
});
