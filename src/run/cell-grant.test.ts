import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import { BUILT_GROUP_IMAGES_FILE, ConfigError, loadConfig } from '../config.js';
import { Store } from '../store/store.js';
import { cellSpecFor } from './cell-grant.js';

const log = pino({ level: 'silent' });
const MANIFEST = JSON.stringify({
  groups: {
    research: {
      rootfs: '/opt/build/cell-groups/research/rootfs',
      image: 'nanocell-cell:0123456789ab-research',
    },
  },
});

describe("a group's own cell image in its spec (cell-packages/GROUP)", () => {
  let home: { dir: string; cleanup: () => void };
  let store: Store;
  beforeEach(() => {
    home = tempHome();
    store = Store.open(':memory:');
  });
  afterEach(() => {
    store.close();
    home.cleanup();
  });

  const configWith = (env: Record<string, string>, manifest: string | undefined = MANIFEST) =>
    loadConfig(
      { NANOCELL_HOME: `${home.dir}/data`, NANOCELL_CONFIG_DIR: `${home.dir}/config`, ...env },
      (file) => (file === BUILT_GROUP_IMAGES_FILE ? manifest : undefined),
    );
  const specOf = (config: ReturnType<typeof loadConfig>, name: string) =>
    cellSpecFor(
      config,
      store,
      log,
      store.groups.create({ name, isAdmin: false, requiresTrigger: true }),
    );

  it('gives a listed group its rootfs and image, and every other group the base', () => {
    const config = configWith({});
    expect(specOf(config, 'research')).toMatchObject({
      rootfs: '/opt/build/cell-groups/research/rootfs',
      image: 'nanocell-cell:0123456789ab-research',
    });
    const other = specOf(config, 'family');
    expect(other.rootfs).toBeUndefined();
    expect(other.image).toBeUndefined();
  });

  it('keeps a configured base: an image built on this checkout is not put on another one', () => {
    const spec = specOf(
      configWith({ NANOCELL_CELL_IMAGE: 'my-cell:1', NANOCELL_CELL_ROOTFS: '/srv/rootfs' }),
      'research',
    );
    expect(spec.rootfs).toBeUndefined();
    expect(spec.image).toBeUndefined();
  });

  it('fails start-up on a damaged build/cell-groups.json, saying to rebuild', () => {
    expect(() => configWith({}, '{"groups": {"research": {"rootfs": "x"}}}')).toThrow(ConfigError);
    try {
      configWith({}, '{"groups": {"research": {"rootfs": "x"}}}');
    } catch (err) {
      expect((err as ConfigError).message).toContain('scripts/build-cell-image.sh');
    }
  });
});
