import { parseConfigFile, setConfigValue } from '../config-file.js';
import { checkSetting, SETTING_KEYS, type Config } from '../config.js';

export interface ConfigDraftDeps {
  /** Replace the config file's content (atomically, private to the owner). */
  write(text: string): void;
  /** The settings start-up would read with this file text (the environment still wins). */
  configWith(text: string): Config;
}

/**
 * The owner's config file as setup changes it: values checked by the schema start-up uses,
 * kept in memory until a step succeeded, then written (progress is saved step by step).
 */
export class ConfigDraft {
  private saved: string;

  constructor(
    private text: string,
    private readonly deps: ConfigDraftDeps,
  ) {
    this.saved = text;
  }

  /** The value the file holds for `key` (with this step's changes), if any. */
  get(key: string): string | undefined {
    return parseConfigFile(this.text, SETTING_KEYS).entries.get(key)?.value;
  }

  /** What is wrong with `value` for `key` (the draft is not changed), or undefined. */
  check(key: string, value: string): string | undefined {
    if (/[\r\n]/.test(value)) return `${key}'s value must be one line`;
    return checkSetting(key, value);
  }

  /** Set `key` in the draft; what is wrong with the value (it is not set then), or undefined. */
  set(key: string, value: string): string | undefined {
    const problem = this.check(key, value);
    if (problem) return problem;
    this.text = setConfigValue(this.text, key, value);
    return undefined;
  }

  /** The settings as start-up would read them with the draft. Throws ConfigError. */
  config(): Config {
    return this.deps.configWith(this.text);
  }

  /** Forget the changes since the last save (a step the owner skipped). */
  discard(): void {
    this.text = this.saved;
  }

  /** Write the file when the draft differs from it. */
  save(): void {
    if (this.text === this.saved) return;
    this.deps.write(this.text);
    this.saved = this.text;
  }
}
