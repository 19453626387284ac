#!/usr/bin/env bash
# Runs the web UI's browser test (tests/web/ui_test.mjs) against a server of its own: builds the
# server (web/ is embedded at build time), ingests sample photos, a made-up video, speech and two
# docs into a new database with the offline models, groups the faces into people, serves it on a
# free port with the media under --media-root, runs the test, and stops the server.
#   MOSAIC_ARTIFACTS=DIR      screenshots (default .cache/web-test/artifacts)
#   MOSAIC_MODELS=DIR         model registry (default .cache/web-test/models, filled from the
#                             offline models scripts/setup made)
#   MOSAIC_BUILD_DIR=DIR      the build tree to test (default build/; ctest passes its own)
#   MOSAIC_WEB_TEST_BUILD=0   use the build tree as it is instead of building mosaic_cli first
# Needs: scripts/setup and scripts/fetch-data done, Node 20, Debian's chromium.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$MOSAIC_ROOT"

build="${MOSAIC_BUILD_DIR:-$MOSAIC_ROOT/build}"
mosaic="$build/bin/mosaic"
data="$MOSAIC_ROOT/.cache/data"
artifacts="${MOSAIC_ARTIFACTS:-$MOSAIC_ROOT/.cache/web-test/artifacts}"
export MOSAIC_MODELS="${MOSAIC_MODELS:-$MOSAIC_ROOT/.cache/web-test/models}"

[[ -d $data/darknet && -d $data/skimage ]] || die "sample data missing: run scripts/fetch-data"
command -v node >/dev/null || die "node not found (Node 20: scripts/setup installs it)"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium not found: apt-get install chromium"

if [[ ${MOSAIC_WEB_TEST_BUILD:-1} != 0 ]]; then
  log "building mosaic_cli (embeds web/) and make_test_clip"
  ninja -C "$build" mosaic_cli make_test_clip ||
    die "building mosaic_cli and make_test_clip failed (a build tree with MOSAIC_BUILD_TESTS=ON: scripts/setup)"
fi
[[ -x $mosaic ]] || die "$mosaic not found: build Mosaic first (scripts/setup)"

[[ -f tests/web/node_modules/playwright-core/package.json ]] ||
  die "tests/web/node_modules is missing: scripts/setup installs playwright-core there"

mkdir -p "$MOSAIC_MODELS"
"$MOSAIC_ROOT/scripts/install-offline-models" >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mosaic-web-test.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The media root: copies, so that every original lies under it (symlinks would resolve outside).
media="$tmp/media"
mkdir -p "$media/photos" "$media/videos" "$media/speech" "$media/docs" "$media/later"
cp "$data"/darknet/*.jpg "$media/photos/"
find "$data/skimage" -maxdepth 1 \( -name '*.png' -o -name '*.jpg' \) ! -name 'truncated.jpg' \
  -exec cp {} "$media/photos/" \;
cp "$data"/speech/cards/00*.wav "$media/speech/"
cp docs/query.md docs/people.md "$media/docs/"
# For the ingest page: a photo not ingested before, and a file that fails.
cp "$data/skimage/rocket.jpg" "$media/later/launchpad.jpg"
printf 'not an image\n' >"$media/later/broken.jpg"
log "making the test video"
"$build/tests/make_test_clip" "$media/videos/testcard.webm" 2>/dev/null

db="$tmp/db"
log "ingesting $(find "$media" -type f ! -path '*/later/*' | wc -l) files"
"$mosaic" --db "$db" ingest "$media"/{photos,videos,speech,docs} --collection media --quiet >"$tmp/ingest.log" 2>&1 ||
  { cat "$tmp/ingest.log" >&2; die "ingest failed"; }
"$mosaic" --db "$db" people cluster --collection media

"$mosaic" --db "$db" serve --port 0 --media-root "$media" 2>"$tmp/server.log" &
server_pid=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' "$tmp/server.log" | head -1)
  [[ -n $url ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; die "the server did not start"; }
  sleep 0.1
done
[[ -n $url ]] || { cat "$tmp/server.log" >&2; die "the server did not say where it listens"; }
log "server at $url; screenshots in $artifacts"

rm -rf "$artifacts"
mkdir -p "$artifacts"
status=0
MOSAIC_URL="$url" MOSAIC_COLLECTION=media MOSAIC_ARTIFACTS="$artifacts" \
  MOSAIC_QUERY_IMAGE="$media/photos/dog.jpg" MOSAIC_TEXT_QUERY=dog MOSAIC_VIDEO_QUERY=testcard \
  MOSAIC_INGEST_PATH=later MOSAIC_INGEST_EXPECT=launchpad \
  node tests/web/ui_test.mjs || status=$?
if [[ $status -ne 0 ]]; then
  cp "$tmp/server.log" "$artifacts/server.log"
  printf '\nlast server log lines (all in %s/server.log):\n' "$artifacts" >&2
  grep -v ' -> 2[0-9][0-9] ' "$tmp/server.log" | tail -15 >&2 || true
fi
exit "$status"
