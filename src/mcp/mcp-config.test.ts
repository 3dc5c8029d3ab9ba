import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMcpConfig, readMcpConfig, serversForGroup } from './mcp-config.js';
import { jsonKeyLine } from './json-key-line.js';

const good = `{
  "servers": {
    "weather": {
      "command": "node",
      "args": ["/workspace/group/weather.mjs"],
      "env": { "UNITS": "metric" },
      "groups": ["main"]
    },
    "files": { "command": "files-mcp", "groups": ["*"] }
  }
}`;

describe('mcp.json', () => {
  it('reads servers with their defaults', () => {
    const cfg = parseMcpConfig(good);
    expect(cfg).toEqual({
      ok: true,
      servers: [
        {
          name: 'weather',
          command: 'node',
          args: ['/workspace/group/weather.mjs'],
          env: { UNITS: 'metric' },
          groups: ['main'],
          callTimeoutMs: 60_000,
        },
        {
          name: 'files',
          command: 'files-mcp',
          args: [],
          env: {},
          groups: ['*'],
          callTimeoutMs: 60_000,
        },
      ],
    });
  });

  it('reads a remote server by its url', () => {
    const cfg = parseMcpConfig(
      '{"servers": {"notes": {"url": "https://mcp.example.com/mcp", "groups": ["main"]}}}',
    );
    expect(cfg).toEqual({
      ok: true,
      servers: [
        {
          name: 'notes',
          url: 'https://mcp.example.com/mcp',
          groups: ['main'],
          callTimeoutMs: 60_000,
        },
      ],
    });
  });

  it('keeps to each group the servers that name it, or every group', () => {
    const cfg = parseMcpConfig(good);
    if (!cfg.ok) throw new Error('expected a valid file');
    expect(serversForGroup(cfg.servers, 'main').map((s) => s.name)).toEqual(['weather', 'files']);
    expect(serversForGroup(cfg.servers, 'family').map((s) => s.name)).toEqual(['files']);
  });

  it.each([
    [
      'a syntax error, with line and column',
      '{\n  "servers": {\n    "a": { "command": "x", }\n  }\n}',
      /^mcp\.json line 3, column 28: not valid JSON/,
    ],
    [
      'a wrong type, with the line and key path',
      good.replace('["/workspace/group/weather.mjs"]', '"/workspace/group/weather.mjs"'),
      /^mcp\.json line 5: servers\.weather\.args: must be a list of strings$/,
    ],
    [
      'a bad element in a list',
      good.replace('["/workspace/group/weather.mjs"]', '["ok", 3]'),
      /^mcp\.json line 5: servers\.weather\.args\[1\]: must be a string$/,
    ],
    [
      'a missing command, at its server',
      good.replace('"command": "files-mcp", ', ''),
      /^mcp\.json line 9: servers\.files\.command: must be the program to run/,
    ],
    [
      'an unknown key, named with the known ones',
      good.replace('"env": {', '"enviroment": 1, "env": {'),
      /^mcp\.json line 6: servers\.weather\.enviroment: unknown key "enviroment"; known keys: command, args, env, groups, callTimeoutMs$/,
    ],
    [
      'a server name that cannot prefix a tool name',
      good.replace('"files"', '"My-Files"'),
      /^mcp\.json line 9: servers\.My-Files: must be lower-case letters/,
    ],
    [
      'a server with no groups',
      good.replace('"groups": ["main"]', '"groups": []'),
      /^mcp\.json line 7: servers\.weather\.groups: must name at least one group/,
    ],
    [
      'a remote server whose address is not http(s)',
      good.replace('"command": "files-mcp"', '"url": "ftp://mcp.example/x"'),
      /^mcp\.json line 9: servers\.files\.url: must be an https:\/\/ \(or http:\/\/\) URL, not ftp:$/,
    ],
    [
      'a remote server with a password in its address',
      good.replace('"command": "files-mcp"', '"url": "https://me:pw@mcp.example/x"'),
      /^mcp\.json line 9: servers\.files\.url: must not hold user:password: a credential goes in credentials\/GROUP\.json/,
    ],
    [
      'a key a remote server has not, named with the keys it has',
      good.replace('"command": "files-mcp"', '"url": "https://mcp.example/mcp", "args": []'),
      /^mcp\.json line 9: servers\.files\.args: unknown key "args"; known keys: url, groups, callTimeoutMs$/,
    ],
    ['not an object at the top', '[1]', /^mcp\.json line 1: \(top level\): must be an object like/],
  ])('reports %s', (_what, text, expected) => {
    const cfg = parseMcpConfig(text);
    expect(cfg.ok).toBe(false);
    if (cfg.ok) return;
    expect(cfg.errors[0]).toMatch(expected);
  });

  it('finds the line of nested keys and list items', () => {
    expect(jsonKeyLine(good, ['servers', 'files', 'groups'])).toBe(9);
    expect(jsonKeyLine(good, ['servers', 'weather', 'env', 'UNITS'])).toBe(6);
    expect(jsonKeyLine('{"a": [1,\n 2,\n {"b": 3}]}', ['a', 2, 'b'])).toBe(3);
    expect(jsonKeyLine(good, ['servers', 'nope'])).toBe(2);
  });

  it('is no servers when the file is missing, and names the file when it is broken', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-mcp-config-'));
    try {
      expect(readMcpConfig(dir)).toMatchObject({ ok: true, servers: [], exists: false });
      fs.writeFileSync(path.join(dir, 'mcp.json'), '{"servers": 1}');
      const broken = readMcpConfig(dir);
      expect(broken.ok).toBe(false);
      if (!broken.ok) expect(broken.errors[0]).toContain(`${path.join(dir, 'mcp.json')} line 1`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
