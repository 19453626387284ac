#!/usr/bin/env bash
# bench/http/run.sh: the HTTP overhead of vector search (docs/benchmarks.md, "HTTP overhead").
#
#   cmake -S . -B build-bench -G Ninja -DMOSAIC_BUILD_BENCH=ON -DMOSAIC_BUILD_TESTS=OFF \
#         -DCMAKE_BUILD_TYPE=RelWithDebInfo          # the flags of build/, which builds the server
#   cmake --build build-bench --target http_bench    # and build/bin/mosaic as usual
#   bench/http/run.sh                                # ~10 minutes; needs wrk, curl, jq, python3
#
# Loads Fashion-MNIST's 60,000 training images (784-d, l2, HNSW m 16 / ef_construction 200 /
# ef 64) into a collection with `mosaic upsert` (once; kept in $WORK/db-base), copies it for the
# server and for the in-process runs, starts `mosaic serve --quiet` on a free port, checks that
# the server and the library return the same top-10 ids for the first 20 queries, then measures
# in ROUNDS rounds, the order of the blocks reversed in every other round:
#   - library: `http_bench library`: the same 1,000 query bodies (test images) through the query
#     engine, the route's work without HTTP (JSON in and out) and a bare Collection::Search, with 1
#     and 2 threads (2 = all cores: the reference), LIB_SECONDS per cell;
#   - HTTP, shared cores: wrk (bench/http/query.lua) at CONNS connections, 2 wrk threads (1 for a
#     single connection), DURATION seconds per cell; server and wrk float over both cores; the
#     CPU each took is measured (/proc), and the machine's total, so what other processes took
#     shows;
#   - HTTP, pinned: the server's threads on core 1, wrk on core 0 (taskset), at PIN_CONNS, against
#     the library with 1 thread pinned to core 1;
# then the mixed runs: at MIXED_CONNS connections, queries only against 90% queries / 10% single-
# point upserts (PUT .../points), alternating, ROUNDS times; per-route counts and server-side times
# come from the server's /metrics. Raw lines go to $WORK/results-DATE.txt, the medians over rounds
# and the ratios (computed per round, then the median) are printed at the end.
#
# Environment: MOSAIC (server binary, default build/bin/mosaic; copied to $WORK first, so a rebuild
# during the run does not change it), BENCH (default build-bench/bench/http_bench), DATA, WORK
# (default .cache/http-bench), ROUNDS (3), DURATION (10), LIB_SECONDS (5), CONNS ("1 16 64"),
# PIN_CONNS ("1 16"; empty: none), MIXED_CONNS (16; empty: none), WORKERS (server --workers; 0: its
# default), IO_THREADS (server --io-threads; 0: its default, one per core), REBUILD=1 (reload the collection).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOSAIC=${MOSAIC:-$root/build/bin/mosaic}
BENCH=${BENCH:-$root/build-bench/bench/http_bench}
DATA=${DATA:-$root/.cache/data/fashion-mnist}
WORK=${WORK:-$root/.cache/http-bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
LIB_SECONDS=${LIB_SECONDS:-5}
CONNS=${CONNS-1 16 64}
PIN_CONNS=${PIN_CONNS-1 16}
MIXED_CONNS=${MIXED_CONNS-16}
WORKERS=${WORKERS:-0}
IO_THREADS=${IO_THREADS:-0}
lua=$root/bench/http/query.lua
collection=fashion

die() { echo "run.sh: $*" >&2; exit 1; }
for tool in wrk curl jq python3 taskset; do
  command -v "$tool" >/dev/null || die "needs $tool"
done
[[ -x $MOSAIC ]] || die "no server binary $MOSAIC (build it, or set MOSAIC)"
[[ -x $BENCH ]] || die "no $BENCH (see the build commands at the top of this file, or set BENCH)"
[[ -f $DATA/train-images-idx3-ubyte.gz ]] || die "no Fashion-MNIST in $DATA (scripts/fetch-data)"

mkdir -p "$WORK"
results=$WORK/results-$(date +%Y%m%d-%H%M%S).txt
say() { echo "$*" | tee -a "$results"; }
ncpu=$(nproc)
hz=$(getconf CLK_TCK)

build_type() {  # the CMAKE_BUILD_TYPE of the build tree holding binary $1
  local d
  d=$(dirname "$1")
  while [[ $d != / && ! -f $d/CMakeCache.txt ]]; do d=$(dirname "$d"); done
  grep -s '^CMAKE_BUILD_TYPE:' "$d/CMakeCache.txt" | cut -d= -f2 || true
}

say "# bench/http/run.sh, $(date -Is)"
say "# machine: $ncpu cpus, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
say "# load before: $(uptime)"
dirty=$(git -C "$root" diff --quiet HEAD -- src include || echo ' + uncommitted changes in src/include')
say "# git: $(git -C "$root" rev-parse --short HEAD)$dirty"
boost=$(dpkg-query -W -f='${Version}' libboost1.74-dev 2>/dev/null || echo '?')
say "# wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); boost: $boost; $(c++ --version | head -1)"
say "# server: $MOSAIC ($(build_type "$MOSAIC")); http_bench: $BENCH ($(build_type "$BENCH"))"
say "# rounds $ROUNDS, wrk cells ${DURATION}s, library cells ${LIB_SECONDS}s, server --workers $WORKERS --io-threads $IO_THREADS"

# Server binary: a private copy (others may rebuild build/ while this runs).
cp "$MOSAIC" "$WORK/mosaic.bin"
mosaic=$WORK/mosaic.bin

# The collection, once.
if [[ ${REBUILD:-0} == 1 || ! -d $WORK/db-base/collections/$collection ]]; then
  rm -rf "$WORK/db-base"
  "$mosaic" --db "$WORK/db-base" collection create "$collection" --vector v:784:l2:hnsw
  t0=$(date +%s)
  "$mosaic" --db "$WORK/db-base" upsert --collection "$collection" \
    "$DATA/train-images-idx3-ubyte.gz" --labels "$DATA/train-labels-idx1-ubyte.gz" --flush
  say "# loaded and indexed in $(($(date +%s) - t0)) s"
fi
rm -rf "$WORK/db-server" "$WORK/db-lib"
cp -a "$WORK/db-base" "$WORK/db-server"
cp -a "$WORK/db-base" "$WORK/db-lib"
"$BENCH" prepare --data "$DATA" --out "$WORK" --queries 1000 --vectors 1000 >/dev/null
export HTTP_BENCH_BODIES=$WORK/queries.jsonl HTTP_BENCH_VECTORS=$WORK/vectors.jsonl
export HTTP_BENCH_COLLECTION=$collection

# The server.
workers_flag=()
[[ $WORKERS != 0 ]] && workers_flag=(--workers "$WORKERS")
[[ $IO_THREADS != 0 ]] && workers_flag+=(--io-threads "$IO_THREADS")
"$mosaic" --db "$WORK/db-server" serve --port 0 --quiet "${workers_flag[@]}" 2>"$WORK/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
port=
for _ in $(seq 100); do
  port=$(sed -n 's|^listening on http://[0-9.]*:\([0-9]*\).*|\1|p' "$WORK/serve.log")
  [[ -n $port ]] && break
  kill -0 $server 2>/dev/null || die "the server stopped: $(cat "$WORK/serve.log")"
  sleep 0.1
done
[[ -n $port ]] || die "the server did not start: $(cat "$WORK/serve.log")"
url=http://127.0.0.1:$port
say "# server pid $server, $url, version $(curl -s "$url/v1/health" | jq -r .version)," \
  "threads $(ls /proc/$server/task | wc -l)"

# Same answers: the server's top-10 ids of the first 20 bodies against the library's.
"$BENCH" library --db "$WORK/db-lib" --collection "$collection" --bodies "$WORK/queries.jsonl" \
  --modes engine --threads 1 --seconds 0.1 --ids "$WORK/ids-library.txt" >/dev/null
head -20 "$WORK/queries.jsonl" | while IFS= read -r body; do
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$body" \
    "$url/v1/collections/$collection/query" | jq -r '[.points[].id | tostring] | join(" ")'
done >"$WORK/ids-server.txt"
cmp -s "$WORK/ids-library.txt" "$WORK/ids-server.txt" ||
  die "the server and the library disagree on the top-10 ids (see $WORK/ids-*.txt)"
say "# top-10 ids of 20 queries: server = library"

machine() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6}' /proc/stat; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# Per thread of the server: "tid:ticks" (user+sys), in thread-id order; the I/O thread is started
# after the workers, the collection's index pool on the first write.
thread_ticks() {
  local t
  for t in $(ls /proc/$server/task | sort -n); do
    awk -v t="$t" '{printf "%s:%d ", t, $14+$15}' "/proc/$server/task/$t/stat"
  done
}
# Server-side count and summed seconds of the query and upsert routes (the handler and its dispatch,
# not parsing, queueing or writing).
route_stats() {
  curl -s "$url/metrics" | awk '
    /^mosaic_http_request_duration_seconds_(sum|count)\{method="POST",route="\/v1\/collections\/\{c\}\/query"\}/ {
      if ($1 ~ /_sum/) qs = $2; else qc = $2 }
    /^mosaic_http_request_duration_seconds_(sum|count)\{method="PUT",route="\/v1\/collections\/\{c\}\/points"\}/ {
      if ($1 ~ /_sum/) us = $2; else uc = $2 }
    END { printf "%d %.6f %d %.6f\n", qc, qs, uc, us }'
}

# run_wrk ROUND TAG CONNS WRITE_EVERY [taskset prefix...]
run_wrk() {
  local round=$1 tag=$2 conns=$3 write_every=$4
  shift 4
  local threads=2
  ((conns < 2)) && threads=1
  local m0 s0 r0 m1 s1 r1 t0 t1 wrk_time line th0 th1
  m0=$(machine) s0=$(proc_ticks $server) r0=$(route_stats) th0=$(thread_ticks) t0=$(date +%s%N)
  {
    TIMEFORMAT='%3U %3S'
    time HTTP_BENCH_WRITE_EVERY=$write_every HTTP_BENCH_ID_BASE=$((round * 1000000000)) \
      "$@" wrk -t$threads -c"$conns" -d"${DURATION}s" --timeout 30s -s "$lua" "$url" >"$WORK/wrk.out" 2>&1
  } 2>"$WORK/wrk.time"
  t1=$(date +%s%N) m1=$(machine) s1=$(proc_ticks $server) r1=$(route_stats) th1=$(thread_ticks)
  wrk_time=$(tail -1 "$WORK/wrk.time")
  line=$(grep '^WRK ' "$WORK/wrk.out") || die "wrk failed: $(cat "$WORK/wrk.out")"
  awk -v line="$line" -v round="$round" -v tag="$tag" -v conns="$conns" -v thr="$threads" \
    -v m0="$m0" -v m1="$m1" -v s0="$s0" -v s1="$s1" -v r0="$r0" -v r1="$r1" -v t0="$t0" -v t1="$t1" \
    -v wt="$wrk_time" -v hz="$hz" -v ncpu="$ncpu" -v th0="$th0" -v th1="$th1" 'BEGIN {
      n = split(line, kv, " ")
      for (i = 2; i <= n; i++) { split(kv[i], p, "="); w[p[1]] = p[2] }
      split(m0, a, " "); split(m1, b, " "); split(r0, x, " "); split(r1, y, " "); split(wt, c, " ")
      wall = (t1 - t0) / 1e9; secs = w["duration_us"] / 1e6; req = w["requests"]
      server_cpu = (s1 - s0) / hz; wrk_cpu = c[1] + c[2]
      busy = (b[1] - a[1]) / (b[2] - a[2])
      qn = y[1] - x[1]; un = y[3] - x[3]
      printf "HTTP round=%d tag=%s conns=%d wrk_threads=%d requests=%d rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.1f errors=%d ", \
        round, tag, conns, thr, req, req / secs, w["p50_us"] / 1e3, w["p90_us"] / 1e3, w["p99_us"] / 1e3, w["max_us"] / 1e3, \
        w["non2xx"] + w["connect_err"] + w["read_err"] + w["write_err"] + w["timeouts"]
      printf "server_cpu_us_per_req=%.1f wrk_cpu_us_per_req=%.1f server_share=%.3f wrk_share=%.3f machine_busy=%.3f others_share=%.3f ", \
        server_cpu / req * 1e6, wrk_cpu / req * 1e6, server_cpu / (wall * ncpu), wrk_cpu / (wall * ncpu), busy, \
        busy - (server_cpu + wrk_cpu) / (wall * ncpu)
      printf "queries=%d query_handler_ms=%.3f upserts=%d upsert_handler_ms=%.3f ", \
        qn, qn ? (y[2] - x[2]) / qn * 1e3 : 0, un, un ? (y[4] - x[4]) / un * 1e3 : 0
      # CPU microseconds per request of each server thread that ran (thread-id order).
      n0 = split(th0, p0, " "); for (i = 1; i <= n0; i++) { split(p0[i], q, ":"); before[q[1]] = q[2] }
      n1 = split(th1, p1, " "); per = ""
      for (i = 1; i <= n1; i++) {
        split(p1[i], q, ":"); d = q[2] - (q[1] in before ? before[q[1]] : 0)
        if (d > 0) per = per (per == "" ? "" : "/") sprintf("%.0f", d / hz / req * 1e6)
      }
      printf "thread_us_per_req=%s\n", per
    }' | tee -a "$results"
}

# run_lib ROUND TAG THREADS MODES [taskset prefix...]
run_lib() {
  local round=$1 tag=$2 threads=$3 modes=$4
  shift 4
  "$@" "$BENCH" library --db "$WORK/db-lib" --collection "$collection" --bodies "$WORK/queries.jsonl" \
    --threads "$threads" --modes "$modes" --seconds "$LIB_SECONDS" --round "$round" |
    sed "s/^LIB /LIB round=$round tag=$tag /" | tee -a "$results"
}

reverse() { local out=() x; for x in "$@"; do out=("$x" "${out[@]}"); done; echo "${out[@]}"; }

block() {  # block NAME ROUND
  local round=$2 c conns
  case $1 in
    lib) run_lib "$round" shared 1,2 engine,json,search ;;
    lib_pin) run_lib "$round" pin1 1 engine,json taskset -c 1 ;;
    http)
      read -ra conns <<<"$CONNS"
      ((round % 2 == 0)) && read -ra conns <<<"$(reverse "${conns[@]}")"
      for c in "${conns[@]}"; do run_wrk "$round" shared "$c" 0; done ;;
    http_pin)
      read -ra conns <<<"$PIN_CONNS"
      ((round % 2 == 0)) && read -ra conns <<<"$(reverse "${conns[@]}")"
      taskset -a -p -c 1 $server >/dev/null
      for c in "${conns[@]}"; do run_wrk "$round" pin1 "$c" 0 taskset -c 0; done
      taskset -a -p -c 0-$((ncpu - 1)) $server >/dev/null ;;
    query) run_wrk "$round" mixed-base "$MIXED_CONNS" 0 ;;
    mixed) run_wrk "$round" mixed "$MIXED_CONNS" 10 ;;
  esac
}

# Warm-up (not recorded): the server's first requests.
HTTP_BENCH_WRITE_EVERY=0 wrk -t2 -c16 -d3s -s "$lua" "$url" >/dev/null

blocks=(lib http)
[[ -n $PIN_CONNS ]] && blocks+=(lib_pin http_pin)
for round in $(seq "$ROUNDS"); do
  order=("${blocks[@]}")
  ((round % 2 == 0)) && read -ra order <<<"$(reverse "${order[@]}")"
  say "# round $round: ${order[*]} ($(cut -d' ' -f1-3 /proc/loadavg))"
  for b in "${order[@]}"; do block "$b" "$round"; done
done
# The mixed runs last: their upserts grow the server's collection (by ~1-2% per round).
if [[ -n $MIXED_CONNS ]]; then
  for round in $(seq "$ROUNDS"); do
    order=(query mixed)
    ((round % 2 == 0)) && order=(mixed query)
    say "# mixed round $round: ${order[*]} ($(cut -d' ' -f1-3 /proc/loadavg))"
    for b in "${order[@]}"; do block "$b" "$round"; done
  done
fi
say "# server: $(curl -s "$url/v1/collections/$collection" | jq -c '{points, wal_bytes}')"
say "# load after: $(uptime)"

python3 "$root/bench/http/summary.py" "$results" | tee -a "$results.summary"
echo "raw: $results; summary: $results.summary"
