import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [svelte()],
  resolve: {
    // Workspace packages from source: the app never depends on a stale package build.
    alias: {
      '@inkboard/protocol': src('../../packages/protocol/src/index.ts'),
      '@inkboard/client': src('../../packages/client/src/index.ts'),
    },
  },
  build: { target: 'es2022' },
  server: {
    proxy: { '/trpc': { target: 'http://127.0.0.1:3000', ws: true }, '/api': 'http://127.0.0.1:3000' },
  },
});
