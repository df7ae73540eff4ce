#!/usr/bin/env node
// The `inkboard` command: runs the built CLI (npm run build builds it).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('inkboard: the CLI is not built yet. Run: npm run build');
    process.exit(1);
  }
  throw err;
});
