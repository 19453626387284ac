#!/usr/bin/env bash
# The ctest `qdrant_client_scenario`: starts `mosaic serve` on a free port over a temporary
# database, runs scenario.mjs (Qdrant's official JS client against Mosaic's Qdrant-compatible API),
# then stops the server with SIGTERM and requires it to exit 0.
#   tests/qdrant/run.sh path/to/mosaic
# Node and the client (node_modules, installed by scripts/setup) are required: without them the
# test fails, it never skips.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:?usage: run.sh path/to/mosaic}

fail() { echo "qdrant_client_scenario: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed (scripts/setup installs it)"
if [[ ! -d $here/node_modules/@qdrant/js-client-rest ]]; then
  command -v npm >/dev/null || fail "npm is not installed (scripts/setup installs it)"
  (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) ||
    fail "npm ci in tests/qdrant failed"
fi
want=$(node -p "require('$here/package.json').dependencies['@qdrant/js-client-rest']")
have=$(node -p "require('$here/node_modules/@qdrant/js-client-rest/package.json').version")
[[ $have == "$want" ]] || fail "tests/qdrant has @qdrant/js-client-rest $have, expected $want (run scripts/setup)"
[[ -x $bin ]] || fail "no mosaic binary at $bin"

tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
show_log() { echo "--- server log (last 60 lines) ---" >&2; tail -n 60 "$tmp/server.log" >&2 || true; }

"$bin" --db "$tmp/db" serve --port 0 2>"$tmp/server.log" &
pid=$!
addr=
for _ in $(seq 300); do  # up to 30 s: a sanitizer build starts slowly
  addr=$(grep -o 'listening on http://[^ ]*' "$tmp/server.log" | head -n1 | sed 's/^listening on //') || true
  [[ -n $addr ]] && break
  kill -0 "$pid" 2>/dev/null || { show_log; fail "mosaic serve exited before listening"; }
  sleep 0.1
done
[[ -n $addr ]] || { show_log; fail "mosaic serve printed no 'listening on' line within 30 s"; }

# With this V8 flag (Node 20) the client carries unsafe integers as BigInt, so 64-bit ids are
# checked exactly; newer Nodes have it on by default and may not know the flag.
flags=()
if node --harmony-json-parse-with-source -e 0 2>/dev/null; then flags=(--harmony-json-parse-with-source); fi
rc=0
(cd "$here" && MOSAIC_URL=$addr node "${flags[@]}" scenario.mjs) || rc=$?

kill -TERM "$pid"
server_rc=0
wait "$pid" || server_rc=$?
pid=
if [[ $rc -ne 0 ]]; then show_log; fail "the scenario failed (exit $rc)"; fi
if [[ $server_rc -ne 0 ]]; then show_log; fail "mosaic serve exited $server_rc after SIGTERM, expected 0"; fi
echo "qdrant_client_scenario: server stopped cleanly"
