import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The owner's dashboard, built into dist/dashboard and served by the host (no CDN). */
export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact()],
  // No inline scripts or styles anywhere: the host's Content-Security-Policy forbids them.
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
