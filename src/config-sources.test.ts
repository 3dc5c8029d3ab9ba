import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IMAGE_FILE,
  checkSetting,
  ConfigError,
  configFilePath,
  describeSettings,
  loadConfig,
  SETTING_KEYS,
} from './config.js';

const CONFIG_DIR = '/owner/config';
const FILE = path.join(CONFIG_DIR, 'config');

/** A file system holding only the given files. */
function files(contents: Record<string, string>) {
  return (file: string) => contents[file];
}

function problems(env: NodeJS.ProcessEnv, read: (f: string) => string | undefined): string[] {
  try {
    loadConfig(env, read);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('loadConfig accepted an invalid configuration');
}

describe('the config file', () => {
  const env = { NANOCELL_CONFIG_DIR: CONFIG_DIR };

  it('lives at NANOCELL_CONFIG_DIR/config', () => {
    expect(configFilePath(env)).toBe(FILE);
  });

  it('supplies any setting the environment takes', () => {
    const config = loadConfig(
      env,
      files({
        [FILE]: '# mine\nNANOCELL_MODEL=claude-x\nNANOCELL_WEB_PORT=7421\nTZ=Europe/Berlin\n',
      }),
    );
    expect(config).toMatchObject({ model: 'claude-x', webPort: 7421, timezone: 'Europe/Berlin' });
  });

  it('loses to the environment', () => {
    const config = loadConfig(
      { ...env, NANOCELL_WEB_PORT: '9000' },
      files({ [FILE]: 'NANOCELL_WEB_PORT=7421\n' }),
    );
    expect(config.webPort).toBe(9000);
  });

  it('names the file, the line, the key and why when a value is bad', () => {
    expect(problems(env, files({ [FILE]: '\nNANOCELL_WEB_PORT=seventy\n' }))).toEqual([
      `NANOCELL_WEB_PORT (${FILE} line 2): Invalid input: expected number, received NaN`,
    ]);
  });

  it('does not blame the file for a bad value the environment overrides it with', () => {
    const [problem] = problems(
      { ...env, NANOCELL_RUNTIME: 'lxc' },
      files({ [FILE]: 'NANOCELL_RUNTIME=docker\n' }),
    );
    expect(problem).toMatch(/^NANOCELL_RUNTIME: must be one of/);
  });

  it('refuses an unknown key with a suggestion, and NANOCELL_CONFIG_DIR', () => {
    expect(
      problems(env, files({ [FILE]: 'NANOCELL_MODLE=x\nNANOCELL_CONFIG_DIR=/elsewhere\n' })),
    ).toEqual([
      `${FILE} line 1: NANOCELL_MODLE is not a nanocell setting (did you mean NANOCELL_MODEL?); see README.md (Configuration) for the list`,
      `${FILE} line 2: NANOCELL_CONFIG_DIR cannot be set in the config file that lives in it; set it in the environment`,
    ]);
  });
});

describe('the default cell image', () => {
  it('is the versioned tag this checkout built', () => {
    const read = files({ [BUILT_IMAGE_FILE]: 'nanocell-cell:0123456789ab\n' });
    expect(loadConfig({}, read).cellImage).toBe('nanocell-cell:0123456789ab');
  });

  it('is latest before any build, or when the record is not a tag the script writes', () => {
    expect(loadConfig({}, files({})).cellImage).toBe('nanocell-cell:latest');
    const odd = files({ [BUILT_IMAGE_FILE]: 'evil:latest --privileged' });
    expect(loadConfig({}, odd).cellImage).toBe('nanocell-cell:latest');
  });

  it('gives way to NANOCELL_CELL_IMAGE', () => {
    const read = files({ [BUILT_IMAGE_FILE]: 'nanocell-cell:0123456789ab' });
    expect(loadConfig({ NANOCELL_CELL_IMAGE: 'mine:1' }, read).cellImage).toBe('mine:1');
  });
});

describe('describeSettings', () => {
  it('lists every setting with its value and source, and marks secrets', () => {
    const { settings, problems } = describeSettings(
      { NANOCELL_CONFIG_DIR: CONFIG_DIR, ANTHROPIC_API_KEY: 'sk-ant-secret-1234' },
      files({ [FILE]: 'NANOCELL_MODEL=claude-x\n' }),
    );
    expect(problems).toEqual([]);
    expect(settings.map((s) => s.key)).toEqual(SETTING_KEYS);
    const by = (key: string) => settings.find((s) => s.key === key);
    expect(by('ANTHROPIC_API_KEY')).toMatchObject({ source: 'environment', secret: true });
    expect(by('NANOCELL_MODEL')).toMatchObject({ value: 'claude-x', source: 'file' });
    expect(by('NANOCELL_WEB_PORT')).toMatchObject({ value: '7420', source: 'default' });
    expect(by('NANOCELL_HOME')).toMatchObject({ value: undefined, source: 'default' });
  });

  it('reports a bad value in the file as a problem, not a throw', () => {
    const { problems } = describeSettings(
      { NANOCELL_CONFIG_DIR: CONFIG_DIR },
      files({ [FILE]: 'NANOCELL_MISSED_RUNS=sometimes\n' }),
    );
    expect(problems).toEqual(['NANOCELL_MISSED_RUNS: must be run-once or skip']);
  });
});

describe('checkSetting', () => {
  it.each([
    ['NANOCELL_WEB_PORT', '7421', undefined],
    ['NANOCELL_WEB_PORT', '70000', 'NANOCELL_WEB_PORT: Too big'],
    ['NANOCELL_CELL_REUSE', 'never', 'NANOCELL_CELL_REUSE: must be "run"'],
    ['TZ', 'Mars/Base', 'TZ: is not a time zone this system knows'],
    ['NOT_A_SETTING', 'x', 'NOT_A_SETTING is not a nanocell setting'],
  ])('judges %s=%j by the start-up schema', (key, value, problem) => {
    const result = checkSetting(key, value);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toContain(problem);
  });
});
