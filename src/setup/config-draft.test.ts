import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ConfigDraft } from './config-draft.js';

function draft(text: string) {
  const writes: string[] = [];
  const d = new ConfigDraft(text, {
    write: (t) => writes.push(t),
    configWith: (t) =>
      // The draft's text is the config file; every other file (the build's) is absent.
      loadConfig({ NANOCELL_HOME: '/tmp/h', NANOCELL_CONFIG_DIR: '/tmp/c' }, (file) =>
        file === '/tmp/c/config' ? t : undefined,
      ),
  });
  return { d, writes };
}

describe('ConfigDraft', () => {
  it('keeps the file as written by hand and writes only on save', () => {
    const { d, writes } = draft('# mine\nNANOCELL_ASSISTANT_NAME=Robin\n');
    expect(d.set('NANOCELL_RUNTIME', 'bwrap')).toBeUndefined();
    expect(writes).toEqual([]);
    d.save();
    expect(writes).toEqual(['# mine\nNANOCELL_ASSISTANT_NAME=Robin\nNANOCELL_RUNTIME=bwrap\n']);
    d.save();
    expect(writes).toHaveLength(1); // nothing new, nothing written
  });

  it('refuses a value start-up would refuse, and a second line smuggled into one', () => {
    const { d } = draft('');
    expect(d.set('NANOCELL_WEB_PORT', '99999')).toMatch(/^NANOCELL_WEB_PORT: /);
    expect(d.set('NANOCELL_MODEL', 'm\nNANOCELL_GUARD=off')).toBe(
      "NANOCELL_MODEL's value must be one line",
    );
    expect(d.get('NANOCELL_WEB_PORT')).toBeUndefined();
  });

  it('discards a step the owner skipped, and reads the settings as start-up would', () => {
    const { d, writes } = draft('NANOCELL_RUNTIME=docker\n');
    d.set('NANOCELL_PROVIDER', 'openai');
    d.set('NANOCELL_MODEL', 'llama3.2');
    expect(d.config()).toMatchObject({ provider: 'openai', model: 'llama3.2', runtime: 'docker' });
    d.discard();
    expect(d.get('NANOCELL_PROVIDER')).toBeUndefined();
    d.save();
    expect(writes).toEqual([]);
  });
});
