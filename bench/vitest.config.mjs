import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The benchmark's own unit tests: `npx vitest run --config bench/vitest.config.mjs`. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.test.mjs'],
  },
});
