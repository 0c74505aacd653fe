import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Two pages: the dashboard (index.html) and GraphiQL (graphiql.html); everything bundled, no CDN. */
export default defineConfig({
  root,
  base: '/',
  plugins: [svelte()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096, // GraphiQL's Monaco editor is large; it loads on /graphiql only
    rolldownOptions: {
      input: { main: `${root}/index.html`, graphiql: `${root}/graphiql.html` },
      onwarn(warning, warn) {
        // GraphiQL's dependencies carry React's "use client" directives, meaningless in a SPA.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  worker: { format: 'es' },
});
