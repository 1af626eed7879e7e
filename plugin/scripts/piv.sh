#!/bin/sh
# piv's launcher for the Claude Code plugin: runs the project's own piv with node (no npx, so hooks stay fast), else piv on PATH.
# Order: $PIV_BIN; <project>/node_modules/piv; the project itself when it is piv; `piv` on PATH. The project is
# $CLAUDE_PROJECT_DIR (set by Claude Code for hooks and MCP servers), else the current folder.
# A hook (`piv.sh hook …`) never fails the session: without a piv CLI it prints one warning as Claude Code JSON and exits 0.
project="${CLAUDE_PROJECT_DIR:-$PWD}"
bin=""
if [ -n "$PIV_BIN" ]; then
  bin="$PIV_BIN"
elif [ -f "$project/node_modules/piv/dist/bundle/bin.js" ]; then
  bin="$project/node_modules/piv/dist/bundle/bin.js"
elif [ -f "$project/dist/bundle/bin.js" ] && grep -q '"name": "piv"' "$project/package.json" 2>/dev/null; then
  bin="$project/dist/bundle/bin.js"
fi
if [ "$1" = mcp ]; then cd "$project" || exit 1; fi
# bin.js run as a command starts node itself, without NODE_EXTRA_CA_CERTS (its first lines; ~35 ms with a system bundle).
if [ -n "$bin" ] && [ -x "$bin" ]; then exec "$bin" "$@"; fi
if [ -n "$bin" ]; then exec node "$bin" "$@"; fi
if command -v piv >/dev/null 2>&1; then exec piv "$@"; fi
if [ "$1" = hook ]; then
  echo '{"systemMessage":"piv: no piv CLI found (npm i -D piv in the project, or put piv on PATH); the piv hook did nothing"}'
  exit 0
fi
echo "piv: no piv CLI found in $project/node_modules or on PATH (npm i -D piv)" >&2
exit 127
