import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

describe('./nanocell logs', () => {
  const home = tempHome();
  const configDir = tempHome('nanocell-config-');
  afterAll(() => {
    home.cleanup();
    configDir.cleanup();
  });

  it('pretty-prints the data dir log, filtered, with control sequences escaped', async () => {
    fs.mkdirSync(path.join(home.dir, 'logs'));
    const time = Date.UTC(2026, 11, 1, 9, 30);
    fs.writeFileSync(
      path.join(home.dir, 'logs', 'nanocell.log'),
      [
        { level: 30, time, group: 'main', msg: 'message stored' },
        {
          level: 40,
          time,
          group: 'main',
          err: 'cell said \u001b]0;pwned\u0007',
          msg: 'run failed',
        },
        { level: 40, time, group: 'family', msg: 'run failed' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const r = await runCli(['logs', '--level', 'warn', '--group', 'main'], {
      NANOCELL_HOME: home.dir,
      NANOCELL_CONFIG_DIR: configDir.dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '2026-12-01T09:30:00.000Z WARN  run failed group=main err="cell said \\u001b]0;pwned\\u0007"\n',
    );
  });
});
