import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/support/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'bench',
          include: ['bench/**/*.test.mjs'],
        },
      },
      {
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'bench/injection/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Real cells and the real host process: one file at a time keeps docker and
          // the machine's two cores from starving each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
