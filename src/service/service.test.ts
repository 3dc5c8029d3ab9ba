import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launchdPlist } from './launchd-plist.js';
import { LaunchdManager, SystemdManager, type CommandResult } from './service-manager.js';
import type { ServiceSpec } from './service-spec.js';
import { systemdUnit } from './systemd-unit.js';

const SPEC: ServiceSpec = {
  name: 'nanocell',
  description: 'nanocell (100% "mine")',
  command: ['/opt/nano cell/nanocell', 'start'],
  workingDirectory: '/opt/nano cell',
  environment: { NANOCELL_HOME: '/var/lib/nanocell', PATH: '/usr/bin:/bin' },
  logFile: '/var/lib/nanocell/service.log',
};

/** A service manager's tool that answers `code` and records every call. */
function recorder(code = 0) {
  const calls: string[][] = [];
  const run = async (file: string, args: string[]): Promise<CommandResult> => {
    calls.push([file, ...args]);
    return { code, stdout: '', stderr: code ? 'System has not been booted with systemd' : '' };
  };
  return { calls, run };
}

describe('systemd unit', () => {
  it('restarts on failure, delegates cgroups and escapes specifiers and quotes', () => {
    const unit = systemdUnit(SPEC, 'system');
    expect(unit).toContain('Restart=on-failure\n');
    expect(unit).toContain('Delegate=yes\n');
    expect(unit).toContain('WantedBy=multi-user.target\n');
    expect(unit).toContain('Description=nanocell (100%% "mine")\n');
    expect(unit).toContain('ExecStart="/opt/nano cell/nanocell" "start"\n');
    expect(unit).toContain('Environment="NANOCELL_HOME=/var/lib/nanocell"\n');
    expect(systemdUnit(SPEC, 'user')).toContain('WantedBy=default.target\n');
  });

  it('refuses a setting with a line break, which would inject a directive', () => {
    const bad = { ...SPEC, environment: { NANOCELL_HOME: '/x\nExecStartPre=/bin/evil' } };
    expect(() => systemdUnit(bad, 'system')).toThrow(/line break/);
  });
});

describe('launchd agent', () => {
  it('is a property list that a real parser reads back, keeping every value', () => {
    const plist = launchdPlist({ ...SPEC, environment: { NANOCELL_HOME: '/a&b<c>' } });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plist-')), 'x.plist');
    fs.writeFileSync(file, plist);
    const read = JSON.parse(
      execFileSync('python3', [
        '-c',
        'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))',
        file,
      ]).toString(),
    ) as Record<string, unknown>;
    expect(read).toMatchObject({
      Label: 'dev.nanocell.nanocell',
      ProgramArguments: SPEC.command,
      EnvironmentVariables: { NANOCELL_HOME: '/a&b<c>' },
      KeepAlive: { SuccessfulExit: false },
      RunAtLoad: true,
    });
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

describe('service managers', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'units-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('systemd: writes the unit, reloads, enables and starts; uninstall undoes it', async () => {
    const tool = recorder();
    const manager = new SystemdManager('nanocell', 'user', dir, tool.run);
    const installed = await manager.install(SPEC);
    expect(installed.ok).toBe(true);
    expect(installed.detail).toMatch(/enable-linger/);
    expect(fs.readFileSync(path.join(dir, 'nanocell.service'), 'utf8')).toBe(
      systemdUnit(SPEC, 'user'),
    );
    expect(tool.calls).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', 'nanocell.service'],
    ]);
    await manager.control('restart');
    expect(tool.calls.at(-1)).toEqual(['systemctl', '--user', 'restart', 'nanocell.service']);
    const removed = await manager.uninstall();
    expect(removed).toEqual({ ok: true, detail: expect.stringContaining('removed') });
    expect(fs.existsSync(path.join(dir, 'nanocell.service'))).toBe(false);
  });

  it('systemd: says plainly when systemd is not running, and keeps the unit', async () => {
    const manager = new SystemdManager('nanocell', 'system', dir, recorder(1).run);
    const installed = await manager.install(SPEC);
    expect(installed.ok).toBe(false);
    expect(installed.detail).toMatch(/not been booted with systemd.*nanocell start/);
    expect(fs.existsSync(path.join(dir, 'nanocell.service'))).toBe(true);
  });

  it('launchd: bootstraps the agent into the user domain and boots it out again', async () => {
    const tool = recorder();
    const manager = new LaunchdManager('nanocell', dir, 501, tool.run);
    expect((await manager.install(SPEC)).ok).toBe(true);
    const plist = path.join(dir, 'dev.nanocell.nanocell.plist');
    expect(tool.calls.at(-1)).toEqual(['launchctl', 'bootstrap', 'gui/501', plist]);
    await manager.control('status');
    expect(tool.calls.at(-1)).toEqual(['launchctl', 'print', 'gui/501/dev.nanocell.nanocell']);
    await manager.uninstall();
    expect(tool.calls.at(-1)).toEqual(['launchctl', 'bootout', 'gui/501/dev.nanocell.nanocell']);
    expect(fs.existsSync(plist)).toBe(false);
  });
});
