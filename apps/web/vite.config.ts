import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [
    svelte(),
    // The installable app shell (issue 17): a web app manifest and a Workbox service worker that
    // precaches the built files, so the app opens without the network. Answers of /trpc and /api are
    // never cached (board data lives in IndexedDB, lib/sync/localStore.ts). A new version waits
    // until the person chooses to reload (components/UpdateNotice.svelte); main.ts registers it, as
    // the server's Content-Security-Policy allows no inline script.
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      // The icons are precached by globPatterns below, once.
      includeManifestIcons: false,
      manifest: {
        name: 'Inkboard',
        short_name: 'Inkboard',
        description: 'A real-time collaborative whiteboard',
        id: '/',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#f6f6f9',
        theme_color: '#6965db',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,woff2}'],
        // Client-side routes (/b/:id, /join/:code) get the precached shell, like the server's fallback.
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/trpc/, /^\/api\//, /^\/healthz/, /^\/metrics/],
        cleanupOutdatedCaches: true,
        runtimeCaching: [],
      },
    }),
  ],
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
