#!/usr/bin/env bash
# Boost.Beast/Asio vs cpp-httplib for Mosaic's server, measured on the same routes and limits
# (bench/http_libs/*.cc; findings in docs/server.md, "Choosing the HTTP library").
#
#   bench/http_libs/run.sh            # build, wait for a quiet machine (<= 15 min), 3 rounds
#   ROUNDS=1 DURATION=3 bench/http_libs/run.sh     # quick look
#
# Standalone (plain g++ -O2, no CMake): bench/CMakeLists.txt needs faiss and the Mosaic libraries,
# this needs neither. Needs libboost-dev, libcpp-httplib-dev, wrk, curl.
#
# Servers, each started fresh per round, order rotated every round:
#   beast         beast_server, 2 io_context threads (= cores)
#   httplib       httplib_server, pool 16 threads, 100 requests per keep-alive connection
#   httplib-1024  httplib_server, pool 1024 threads: a thread per connection at 1000 connections
# Per round and server:
#   1. wrk -t2 -cN -d${DURATION}s --latency, POST /echo, N = 16 64 256 1000 (threads and RSS of
#      the server sampled during N = 1000). With each run: the server's CPU time per request (so
#      efficiency is comparable however busy the machine is) and the share of both cores taken by
#      the server, wrk and every other process (the machine is shared: builds run alongside), and
#      how long the server's threads waited for a CPU (run queue, /proc/PID/task/*/schedstat).
#   2. 200 slow clients (one header byte a second, bench/http_libs/slow_clients.cc) while
#      wrk -c16 measures POST /echo; compared with step 1's N = 16. The slow clients stay 17 s in
#      all, so the servers' 10 s read timeout can show whether it closes them.
# Once per server: body of 1 MiB / 1 MiB + 1 / 100 MB / 2 MiB chunked -> status; graceful shutdown:
# GET /hello?sleep_ms=2000 in flight, SIGTERM -> its status, exit code and time to exit; the same
# with an idle keep-alive connection and a slow client open. Per server run: the kernel's
# ListenOverflows count (connections dropped because the listen queue was full).
# Output: $OUT (default build/http_libs): raw wrk outputs, results.tsv, summary.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/build/http_libs}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-"16 64 256 1000"}
SLOW=${SLOW:-200}
QUIET_LOAD=${QUIET_LOAD:-0.5}     # start when the 1-minute load is below this ...
QUIET_WAIT_S=${QUIET_WAIT_S:-900} # ... or after this long, whichever comes first
VARIANTS=(beast httplib httplib-1024)

mkdir -p "$OUT/bin" "$OUT/raw"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || { echo "need ulimit -n >= 4096 (have $(ulimit -n))" >&2; exit 1; }
for tool in g++ wrk curl pkg-config; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

# ---------------------------------------------------------------- build
echo "building into $OUT/bin"
CXX="g++ -std=c++17 -O2 -Wall -Wextra"
$CXX -o "$OUT/bin/beast_server" "$HERE/beast_server.cc" -pthread &
b1=$!
# pkg-config's flags matter: the .so was built with OpenSSL/zlib/Brotli support, which changes
# the classes' layout in httplib.h.
$CXX $(pkg-config --cflags cpp-httplib) -o "$OUT/bin/httplib_server" "$HERE/httplib_server.cc" \
  $(pkg-config --libs cpp-httplib) -pthread &
b2=$!
$CXX -o "$OUT/bin/slow_clients" "$HERE/slow_clients.cc"
wait "$b1"; wait "$b2"

# ---------------------------------------------------------------- helpers
server_args() {
  case "$1" in
    beast) echo "$OUT/bin/beast_server --threads 2" ;;
    httplib) echo "$OUT/bin/httplib_server --threads 16 --keep-alive-max 100" ;;
    httplib-1024) echo "$OUT/bin/httplib_server --threads 1024 --keep-alive-max 100" ;;
  esac
}

PID=""; PORT=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; true' EXIT  # no server left behind on failure
start_server() {  # $1 variant; sets PID, PORT
  local log="$OUT/raw/server-$1.log"
  rm -f "$log.out"  # else the port of the previous run could be read before the new one truncates it
  # shellcheck disable=SC2046
  $(server_args "$1") --work-iters "$WORK_ITERS" >"$log.out" 2>>"$log" &
  PID=$!
  for _ in $(seq 100); do
    PORT=$(awk '/^listening on/ {print $3}' "$log.out" 2>/dev/null || true)
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "server $1 did not start" >&2; exit 1
}
STOP_T0=""; STOP_RC=""; STOP_SECS=""
stop_begin() { STOP_T0=$(date +%s.%N); kill -TERM "$PID" 2>/dev/null || true; }
stop_wait() {  # after stop_begin: wait up to 20 s for exit, else SIGKILL; sets STOP_RC, STOP_SECS
  local t1
  STOP_RC=0
  for _ in $(seq 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID"; wait "$PID" 2>/dev/null || true
    STOP_RC=killed; STOP_SECS=">20"; return
  fi
  wait "$PID" || STOP_RC=$?
  t1=$(date +%s.%N)
  STOP_SECS=$(awk -v a="$STOP_T0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
}
stop_server() { stop_begin; stop_wait; }
threads_of() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }                  # user+sys ticks (1/100 s)
# ns the server's threads spent waiting on a run queue (runnable, no CPU free): /proc schedstat
proc_runq_wait() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{w += $2} END {printf "%.0f\n", w}'; }
sys_cpu() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }  # busy idle

# wrk_start CONNS RAW: wrk against POST /echo in the background (WPID), CPU counters noted, so
# wrk_finish can tell the server's CPU per request and how much of the machine others took.
WPID=""; SRV_CPU0=0; BUSY0=0; IDLE0=0; RUNQ0=0
wrk_start() {
  SRV_CPU0=$(proc_cpu "$PID")
  RUNQ0=$(proc_runq_wait "$PID")
  read -r BUSY0 IDLE0 < <(sys_cpu)
  { TIMEFORMAT='%U %S'; time wrk -t2 -c"$1" -d"${DURATION}s" --latency -s "$OUT/echo.lua" \
      "http://127.0.0.1:$PORT/echo" >"$2"; } 2>"$2.cpu" &
  WPID=$!
}
wrk_finish() {  # VARIANT ROUND KEY RAW
  wait "$WPID"
  local srv1 runq1 busy1 idle1 rps p50 p99 err non2xx
  srv1=$(proc_cpu "$PID")
  runq1=$(proc_runq_wait "$PID")
  read -r busy1 idle1 < <(sys_cpu)
  read -r rps p50 p99 err non2xx < <(parse_wrk "$4")
  record "$1" "$2" "$3_rps" "$rps"
  record "$1" "$2" "$3_p50_ms" "$p50"
  record "$1" "$2" "$3_p99_ms" "$p99"
  record "$1" "$2" "$3_errors" "$((err + non2xx))"
  # server CPU per answered request (us); server, wrk and everything else as % of both cores
  awk -v s=$((srv1 - SRV_CPU0)) -v b=$((busy1 - BUSY0)) -v i=$((idle1 - IDLE0)) -v q=$((runq1 - RUNQ0)) \
      -v n="$(awk '/requests in/ {print $1}' "$4")" -v w="$(tail -1 "$4.cpu")" '
    BEGIN {
      split(w, wt, " "); wrk = (wt[1] + wt[2]) * 100; total = b + i
      printf "%.0f %.0f %.0f %.0f %.0f\n", (n > 0 ? s * 10000 / n : 0), 100 * s / total, 100 * wrk / total,
             100 * (b - s - wrk) / total, (n > 0 ? q / 1000 / n : 0)
    }' | {
    read -r us spct wpct opct qus
    record "$1" "$2" "$3_cpu_us" "$us"
    record "$1" "$2" "$3_runq_us" "$qus"
    record "$1" "$2" "$3_server_pct" "$spct"
    record "$1" "$2" "$3_wrk_pct" "$wpct"
    record "$1" "$2" "$3_others_pct" "$opct"
  }
}
rss_mb_of() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# TCP connections the kernel dropped because a listen queue was full (machine-wide counter)
listen_overflows() {
  awk '$1 == "TcpExt:" && !h {for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next}
       $1 == "TcpExt:" {for (i = 2; i <= NF; i++) if (n[i] == "ListenOverflows") print $i}' /proc/net/netstat
}

# wrk output -> "rps p50_ms p99_ms errors non2xx"
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    END { printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, err, non2xx }' "$1"
}

RESULTS="$OUT/results.tsv"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; }  # variant round key value

cat >"$OUT/echo.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query": "a small request body, about two hundred bytes, as a search query with a filter would be", "limit": 10, "filter": {"must": [{"key": "kind", "match": {"value": "photo"}}]}}'
EOF

# ---------------------------------------------------------------- wait for a quiet machine
waited=0
while awk -v l="$(load1)" -v q="$QUIET_LOAD" 'BEGIN {exit !(l >= q)}' && [ "$waited" -lt "$QUIET_WAIT_S" ]; do
  [ $((waited % 60)) -eq 0 ] && echo "waiting for load < $QUIET_LOAD: $(uptime)"
  sleep 10; waited=$((waited + 10))
done
WORK_ITERS=$("$OUT/bin/beast_server" --calibrate)
{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "versions: g++ $(g++ -dumpversion), Boost $(dpkg-query -W -f='${Version}' libboost-dev)," \
       "cpp-httplib $(dpkg-query -W -f='${Version}' libcpp-httplib-dev), wrk $(dpkg-query -W -f='${Version}' wrk)"
  echo "work: $WORK_ITERS iterations (~50 us) per POST /echo; waited ${waited}s for quiet"
  echo "uptime at start: $(uptime)"
} | tee "$OUT/env.txt"
: >"$RESULTS"

# ---------------------------------------------------------------- rounds
for round in $(seq "$ROUNDS"); do
  n=${#VARIANTS[@]}
  for i in $(seq 0 $((n - 1))); do
    v=${VARIANTS[$(((i + round - 1) % n))]}
    echo "round $round: $v (load $(load1))"
    record "$v" "$round" load_before "$(load1)"
    lo0=$(listen_overflows)
    start_server "$v"
    record "$v" "$round" threads_idle "$(threads_of "$PID")"
    wrk -t2 -c16 -d1s "http://127.0.0.1:$PORT/hello" >/dev/null  # warm-up
    for c in $CONNS; do
      raw="$OUT/raw/wrk-$v-r$round-c$c.txt"
      wrk_start "$c" "$raw"
      if [ "$c" = 1000 ]; then
        tmax=0; rmax=0
        for _ in $(seq $((DURATION * 2 - 1))); do
          sleep 0.5
          t=$(threads_of "$PID"); r=$(rss_mb_of "$PID")
          [ "$t" -gt "$tmax" ] && tmax=$t
          [ "$r" -gt "$rmax" ] && rmax=$r
        done
        record "$v" "$round" threads_c1000 "$tmax"
        record "$v" "$round" rss_mb_c1000 "$rmax"
      fi
      wrk_finish "$v" "$round" "c$c" "$raw"
      sleep 1
    done
    # slow clients alongside wrk -c16
    # they stay 14 s past wrk's start: past the 10 s read timeout, to see whether it fires
    "$OUT/bin/slow_clients" "$PORT" "$SLOW" $((DURATION + 12)) >"$OUT/raw/slow-$v-r$round.json" &
    spid=$!
    sleep 2
    raw="$OUT/raw/wrk-$v-r$round-slow.txt"
    wrk_start 16 "$raw"
    sleep $((DURATION / 2))
    record "$v" "$round" threads_slow "$(threads_of "$PID")"
    wrk_finish "$v" "$round" slow "$raw"
    wait "$spid"
    record "$v" "$round" slow_closed_by_server \
      "$(sed -n 's/.*"closed_by_server":\([0-9]*\),"reset":\([0-9]*\).*/\1 (\2 reset)/p' "$OUT/raw/slow-$v-r$round.json")"
    sleep 1
    stop_server
    record "$v" "$round" stop_idle "exit=$STOP_RC in ${STOP_SECS}s"
    record "$v" "$round" listen_overflows $(($(listen_overflows) - lo0))
    record "$v" "$round" load_after "$(load1)"
  done
done

# ---------------------------------------------------------------- limits and shutdown, once each
CHECKS="$OUT/checks.tsv"
: >"$CHECKS"
head -c $((1 << 20)) /dev/zero | tr '\0' 'x' >"$OUT/body-1MiB"
head -c $(((1 << 20) + 1)) /dev/zero | tr '\0' 'x' >"$OUT/body-1MiB+1"
head -c 100000000 /dev/zero >"$OUT/body-100MB"
head -c 65536 /dev/zero | tr '\0' 'x' >"$OUT/body-64KiB"
post() {  # $1 file, extra curl args...; prints "code time_s"; $CT: the Content-Type
  local f=$1; shift
  curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Expect:' -H "Content-Type: ${CT:-application/json}" \
    "$@" --data-binary @"$f" "http://127.0.0.1:$PORT/echo" || true
}
for v in "${VARIANTS[@]}"; do
  start_server "$v"
  printf '%s\tbody 1 MiB\t%s\n' "$v" "$(post "$OUT/body-1MiB")" >>"$CHECKS"
  printf '%s\tbody 1 MiB + 1\t%s\n' "$v" "$(post "$OUT/body-1MiB+1")" >>"$CHECKS"
  printf '%s\tbody 100 MB\t%s\n' "$v" "$(post "$OUT/body-100MB")" >>"$CHECKS"
  printf '%s\tbody 2 MiB chunked\t%s\n' "$v" \
    "$(cat "$OUT/body-1MiB" "$OUT/body-1MiB" | post - -H 'Transfer-Encoding: chunked')" >>"$CHECKS"
  printf '%s\tbody 64 KiB, Content-Type form-urlencoded\t%s\n' "$v" \
    "$(CT=application/x-www-form-urlencoded post "$OUT/body-64KiB")" >>"$CHECKS"

  # graceful shutdown with one request in flight
  curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/hello?sleep_ms=2000" \
    >"$OUT/raw/inflight-$v.txt" || true &
  cpid=$!
  sleep 0.5
  stop_server
  wait "$cpid" || true
  printf '%s\tSIGTERM, sleep_ms=2000 in flight: request\t%s\n' "$v" "$(cat "$OUT/raw/inflight-$v.txt")" >>"$CHECKS"
  printf '%s\tSIGTERM, sleep_ms=2000 in flight: exit\texit=%s after %ss\n' "$v" "$STOP_RC" "$STOP_SECS" >>"$CHECKS"

  # the same with an idle keep-alive connection and a slow client open
  start_server "$v"
  "$OUT/bin/slow_clients" "$PORT" 1 40 100000 --idle >/dev/null &
  ipid=$!
  "$OUT/bin/slow_clients" "$PORT" 1 40 >/dev/null &
  spid=$!
  sleep 1.5
  curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/hello?sleep_ms=2000" \
    >"$OUT/raw/inflight2-$v.txt" || true &
  cpid=$!
  sleep 0.5
  stop_begin
  sleep 0.2
  after=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/hello" || true)
  stop_wait
  wait "$cpid" || true
  kill "$ipid" "$spid" 2>/dev/null || true; wait "$ipid" "$spid" 2>/dev/null || true
  printf '%s\tSIGTERM + idle conn + slow client: request\t%s\n' "$v" "$(cat "$OUT/raw/inflight2-$v.txt")" >>"$CHECKS"
  printf '%s\tSIGTERM + idle conn + slow client: exit\t%s\n' "$v" \
    "$([ "$STOP_RC" = killed ] && echo "no exit in 20 s (SIGKILL)" || echo "exit=$STOP_RC after ${STOP_SECS}s")" >>"$CHECKS"
  printf '%s\tnew request 0.2 s after SIGTERM (000 = refused)\t%s\n' "$v" "$after" >>"$CHECKS"
done
rm -f "$OUT"/body-*
echo "uptime at end: $(uptime)" | tee -a "$OUT/env.txt"

# ---------------------------------------------------------------- summary (medians over rounds)
median() {  # variant key -> median over rounds (numeric)
  awk -F'\t' -v v="$1" -v k="$2" '$1 == v && $3 == k {print $4}' "$RESULTS" | sort -g |
    awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
all() { awk -F'\t' -v v="$1" -v k="$2" '$1 == v && $3 == k {printf "%s%s", sep, $4; sep = " / "}' "$RESULTS"; }
{
  cat "$OUT/env.txt"
  echo
  echo "medians of $ROUNDS rounds (POST /echo, wrk -t2 -d${DURATION}s; errors = socket errors + non-2xx)"
  echo
  echo "server CPU = the server's user+sys time per answered request; run-queue wait = time its"
  echo "threads were runnable but waited for a CPU, per request; server / wrk / others = share of both"
  echo "cores during the run (others: every other process on the machine)"
  echo
  echo "| server | conns | req/s | p50 ms | p99 ms | errors | server CPU us/req | run-queue wait us/req | server % | wrk % | others % |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  row() {  # variant key label
    echo "| $1 | $3 | $(median "$1" "$2_rps") | $(median "$1" "$2_p50_ms") | $(median "$1" "$2_p99_ms") |" \
         "$(median "$1" "$2_errors") | $(median "$1" "$2_cpu_us") | $(median "$1" "$2_runq_us") | $(median "$1" "$2_server_pct") |" \
         "$(median "$1" "$2_wrk_pct") | $(median "$1" "$2_others_pct") |"
  }
  for v in "${VARIANTS[@]}"; do
    for c in $CONNS; do row "$v" "c$c" "$c"; done
    row "$v" slow "16 + $SLOW slow"
  done
  echo
  echo "| server | threads idle | threads at 1000 conns | RSS MB at 1000 conns | threads with slow clients | slow conns closed by server (per round) | listen-queue drops (per round) | stop (idle) |"
  echo "|---|---:|---:|---:|---:|---|---|---|"
  for v in "${VARIANTS[@]}"; do
    echo "| $v | $(median "$v" threads_idle) | $(median "$v" threads_c1000) | $(median "$v" rss_mb_c1000) |" \
         "$(median "$v" threads_slow) | $(all "$v" slow_closed_by_server) | $(all "$v" listen_overflows) |" \
         "$(all "$v" stop_idle) |"
  done
  echo
  echo "load (1 min) before / after each server run: $(awk -F'\t' '$3 == "load_before" {b = $4} $3 == "load_after" {printf "%s%s %s/%s", s, $1, b, $4; s = ", "}' "$RESULTS")"
  echo
  echo "| server | check | result |"
  echo "|---|---|---|"
  awk -F'\t' '{print "| " $1 " | " $2 " | " $3 " |"}' "$CHECKS"
} | tee "$OUT/summary.md"
