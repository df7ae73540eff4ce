#!/usr/bin/env node
// The `inkboard` command: runs the built CLI, or its TypeScript source through tsx when the
// repository has not been built yet (tsx is one of the repository's dev dependencies).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('inkboard: the CLI is not built yet. Run: npm run build');
    process.exit(1);
  }
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
