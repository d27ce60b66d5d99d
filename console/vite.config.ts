import path from 'node:path';
import { defineConfig } from 'vite';

// The console is built into dist/console and served by the broker at /console: every asset comes from
// the broker itself (no CDN, nothing fetched at run time), with hashed names it can cache for good.
export default defineConfig({
  root: __dirname,
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path.resolve(__dirname, '../dist/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Inline nothing as data: URLs or scripts: the broker's CSP allows only files from its own origin.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // React Flow marks its entry "use client" (for React Server Components); a browser bundle has none.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
});
