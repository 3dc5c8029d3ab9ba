import fs from 'node:fs';
import path from 'node:path';
import {
  checkSetting,
  ConfigError,
  configFileReader,
  describeSettings,
  SETTING_KEYS,
  type SettingView,
} from '../config.js';
import type { CliCommand, TextOut } from './command.js';
import { closestKey, setConfigValue } from '../config-file.js';

export const CONFIG_USAGE = `usage: nanocell config show | get KEY | set KEY VALUE | unset KEY | path
  show           every setting, its value and where it comes from (environment, file, default);
                 secrets (keys and tokens) are masked
  get KEY        one setting's effective value, unmasked, for scripts
  set KEY VALUE  write KEY=VALUE to the config file, checked by the same rules as start-up
  unset KEY      remove KEY from the config file
  path           the config file's path
The environment wins over the file.
`;

/** What `config` works on: the settings as config.ts sees them, and the file. */
export interface ConfigCommandDeps {
  file: string;
  settings: SettingView[];
  /** Problems of the current file and environment (they would stop start-up). */
  problems: string[];
  keys: readonly string[];
  check(key: string, value: string): string | undefined;
  readFile(file: string): string | undefined;
  /** Replace the file's content (atomically, private to the owner). */
  writeFile(file: string, text: string): void;
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
}

export function configCommand(args: string[], deps: ConfigCommandDeps): number {
  const [sub, ...rest] = args;
  const { out, err } = deps;
  const usage = (problem: string) => {
    err.write(`nanocell: ${problem}\n${CONFIG_USAGE}`);
    return 2;
  };
  const knownKey = (key: string | undefined): string | undefined => {
    if (!key) return 'config needs a setting name, e.g. NANOCELL_MODEL';
    if (deps.keys.includes(key)) return undefined;
    const guess = closestKey(key, deps.keys);
    return `${key} is not a nanocell setting${guess ? ` (did you mean ${guess}?)` : ''}; \`nanocell config show\` lists them`;
  };
  switch (sub) {
    case 'path':
      out.write(`${deps.file}\n`);
      return 0;
    case 'show': {
      if (rest.length) return usage('config show takes no arguments');
      const width = Math.max(...deps.settings.map((s) => s.key.length));
      out.write(`# ${deps.file} (the environment wins over it)\n`);
      for (const s of deps.settings) {
        const value = s.value === undefined ? '(unset)' : s.secret ? mask(s.value) : s.value;
        out.write(`${s.key.padEnd(width)}  ${value}  [${s.source}]\n`);
      }
      for (const p of deps.problems) err.write(`nanocell: ${p}\n`);
      return deps.problems.length ? 1 : 0;
    }
    case 'get': {
      if (rest.length !== 1) return usage('config get takes one setting name');
      const bad = knownKey(rest[0]);
      if (bad) return usage(bad);
      const setting = deps.settings.find((s) => s.key === rest[0]);
      if (setting?.value === undefined) return 1;
      out.write(`${setting.value}\n`);
      return 0;
    }
    case 'set':
    case 'unset': {
      const [key, value] = rest;
      if (sub === 'set' && rest.length !== 2) {
        return usage('config set takes a setting name and a value, e.g. NANOCELL_WEB_PORT 7421');
      }
      if (sub === 'unset' && rest.length !== 1) return usage('config unset takes a setting name');
      const bad = knownKey(key);
      if (bad) return usage(bad);
      if (key === 'NANOCELL_CONFIG_DIR') {
        return usage(
          'NANOCELL_CONFIG_DIR cannot be set in the config file that lives in it; set it in the environment',
        );
      }
      const text = deps.readFile(deps.file) ?? '';
      let next: string;
      if (sub === 'set') {
        if (/[\r\n]/.test(value!)) return usage(`${key}'s value must be one line`);
        const problem = deps.check(key!, value!);
        if (problem) return usage(problem);
        next = setConfigValue(text, key!, value!);
      } else {
        next = removeKey(text, key!);
        if (next === text) {
          err.write(`nanocell: ${key} is not set in ${deps.file}\n`);
          return 1;
        }
      }
      deps.writeFile(deps.file, next);
      const env = deps.settings.find((s) => s.key === key && s.source === 'environment');
      out.write(`${sub === 'set' ? 'set' : 'removed'} ${key} in ${deps.file}\n`);
      if (env) err.write(`nanocell: note: ${key} is also set in the environment, which wins\n`);
      return 0;
    }
    default:
      return usage(sub ? `unknown config command "${sub}"` : 'config needs a command');
  }
}

/** Enough to tell two keys apart, never enough to use one. */
function mask(secret: string): string {
  return secret.length <= 8 ? '****' : `${secret.slice(0, 4)}…**** (${secret.length} chars)`;
}

function removeKey(text: string, key: string): string {
  const lines = text.split(/\r?\n/);
  const kept = lines.filter((l) => {
    const t = l.trim();
    return t.startsWith('#') || t.slice(0, Math.max(0, t.indexOf('='))).trim() !== key;
  });
  return kept.length === lines.length ? text : kept.join('\n');
}

/**
 * Write the config file atomically (a temporary file renamed over it), 0600 in a 0700 dir:
 * it may hold the API key. A symlink at the path is replaced, never followed.
 */
export function writeConfigFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** `nanocell config`: runs before the settings are loaded, so it can fix a file that stops start-up. */
export const configCli = {
  name: 'config',
  summary: 'the settings: environment, config file, defaults (show|get|set|unset|path)',
  usage: CONFIG_USAGE,
  needs: 'none',
  run(args: string[], io: { out: TextOut; err: TextOut }): number {
    let view;
    try {
      view = describeSettings();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err.write(`nanocell: ${err.message}\n`);
      return 2;
    }
    return configCommand(args, {
      ...view,
      keys: SETTING_KEYS,
      check: checkSetting,
      readFile: configFileReader,
      writeFile: writeConfigFile,
      out: io.out,
      err: io.err,
    });
  },
} satisfies CliCommand;
