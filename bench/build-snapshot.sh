#!/usr/bin/env bash
# Builds the server of one commit into a private directory (outside the working tree), so that the
# benchmark measures a fixed version while the working tree changes. Read-only for the repository:
# uses `git archive`, links the root node_modules, and compiles with the root TypeScript.
#   bench/build-snapshot.sh [commit] [dir]      (defaults: HEAD, /tmp/inkboard-bench-<short sha>)
# Prints the path of the built apps/server/dist/index.js; pass it to classroom.ts with --server.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$root" rev-parse "${1:-HEAD}")"
dir="${2:-/tmp/inkboard-bench-${commit:0:7}}"
if [ ! -f "$dir/apps/server/dist/index.js" ]; then
  rm -rf "$dir" && mkdir -p "$dir/node_modules/@inkboard"
  git -C "$root" archive "$commit" | tar -x -C "$dir"
  for entry in "$root"/node_modules/* "$root"/node_modules/.bin; do
    name="$(basename "$entry")"
    [ "$name" = "@inkboard" ] || ln -s "$entry" "$dir/node_modules/$name"
  done
  ln -s ../../packages/protocol "$dir/node_modules/@inkboard/protocol"
  ln -s ../../apps/server "$dir/node_modules/@inkboard/server"
  (cd "$dir/packages/protocol" && "$root/node_modules/.bin/tsc" -p tsconfig.build.json)
  (cd "$dir/apps/server" && "$root/node_modules/.bin/tsc" -p tsconfig.build.json)
fi
echo "$dir/apps/server/dist/index.js"
