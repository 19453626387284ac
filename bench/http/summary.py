#!/usr/bin/env python3
"""Medians over rounds of bench/http/run.sh's raw lines, and the same-round ratios.

usage: summary.py RESULTS_FILE

Each ratio is taken within a round (HTTP against the library cells of the same round), then the
median over rounds is printed with the per-round values.
"""
import statistics
import sys
from collections import defaultdict


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0] not in ("LIB", "HTTP"):
                continue
            row = {"kind": parts[0]}
            for kv in parts[1:]:
                k, _, v = kv.partition("=")
                try:
                    row[k] = float(v) if "." in v or v.isdigit() else v
                except ValueError:
                    row[k] = v
            rows.append(row)
    return rows


def med(values):
    return statistics.median(values) if values else float("nan")


def main():
    rows = parse(sys.argv[1])
    lib = defaultdict(list)   # (tag, mode, threads) -> rows
    http = defaultdict(list)  # (tag, conns) -> rows
    by_round = defaultdict(dict)
    for r in rows:
        rnd = int(r["round"])
        if r["kind"] == "LIB":
            key = (r["tag"], r["mode"], int(r["threads"]))
            lib[key].append(r)
        else:
            key = (r["tag"], int(r["conns"]))
            http[key].append(r)
        by_round[rnd][(r["kind"],) + key] = r

    print("\nLibrary (in-process), medians over rounds")
    print(f"{'cores':6} {'mode':7} {'thr':>3} | {'q/s':>8} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'CPU us/q':>8} {'own':>5} {'others':>6} | rounds")
    for (tag, mode, thr), rs in sorted(lib.items()):
        m = lambda field: med([r[field] for r in rs])  # noqa: E731
        print(f"{tag:6} {mode:7} {thr:3d} | {m('qps'):8.0f} {m('p50_ms'):7.3f} {m('p99_ms'):7.3f} | "
              f"{m('cpu_us_per_query'):8.1f} {m('own_share'):5.2f} {m('others_share'):6.2f} | "
              f"{len(rs)}")

    print("\nHTTP (wrk), medians over rounds; CPU per request and shares of all cores")
    print(f"{'cores':10} {'conns':>5} | {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'err':>3} | "
          f"{'server us/req':>13} {'wrk us/req':>10} | {'server':>6} {'wrk':>5} {'others':>6} | "
          f"{'handler ms':>10} {'upserts/s':>9} {'upsert ms':>9}")
    for (tag, conns), rs in sorted(http.items()):
        secs = [r["requests"] / r["rps"] for r in rs]
        ups = med([r["upserts"] / s for r, s in zip(rs, secs)])
        print(f"{tag:10} {conns:5d} | {med([r['rps'] for r in rs]):7.0f} "
              f"{med([r['p50_ms'] for r in rs]):7.3f} {med([r['p99_ms'] for r in rs]):7.3f} "
              f"{int(sum(r['errors'] for r in rs)):3d} | "
              f"{med([r['server_cpu_us_per_req'] for r in rs]):13.1f} "
              f"{med([r['wrk_cpu_us_per_req'] for r in rs]):10.1f} | "
              f"{med([r['server_share'] for r in rs]):6.2f} "
              f"{med([r['wrk_share'] for r in rs]):5.2f} "
              f"{med([r['others_share'] for r in rs]):6.2f} | "
              f"{med([r['query_handler_ms'] for r in rs]):10.3f} {ups:9.1f} "
              f"{med([r['upsert_handler_ms'] for r in rs]):9.3f}")

    print("\nServer CPU per request by thread that ran (us; workers..., then the I/O threads), per round")
    for (tag, conns), rs in sorted(http.items()):
        per = "  ".join(str(r.get("thread_us_per_req", "?")) for r in rs)
        print(f"  {tag:10} {conns:3d} conns: {per}")

    def ratios(name, num_key, num_field, den_key, den_field, invert=False):
        vals = []
        for rnd in sorted(by_round):
            a, b = by_round[rnd].get(num_key), by_round[rnd].get(den_key)
            if a and b and a[num_field] and b[den_field]:
                vals.append(b[den_field] / a[num_field] if invert else a[num_field] / b[den_field])
        if vals:
            per = ", ".join(f"{v:.2f}" for v in vals)
            print(f"  {name:58} {med(vals):5.2f}   ({per})")

    print("\nRatios (per round, median; rounds in brackets)")
    for (tag, conns) in sorted(http):
        if tag == "shared":
            ratios(f"HTTP {conns:2d} conns / library engine 2 threads (q/s)",
                   ("HTTP", "shared", conns), "rps", ("LIB", "shared", "engine", 2), "qps")
    for (tag, conns) in sorted(http):
        if tag == "shared":
            ratios(f"HTTP {conns:2d} conns / library json 2 threads (q/s)",
                   ("HTTP", "shared", conns), "rps", ("LIB", "shared", "json", 2), "qps")
    for (tag, conns) in sorted(http):
        if tag == "shared":
            ratios(f"CPU: library engine (2 thr) / server, per query, {conns:2d} conns",
                   ("HTTP", "shared", conns), "server_cpu_us_per_req",
                   ("LIB", "shared", "engine", 2), "cpu_us_per_query", invert=True)
    for (tag, conns) in sorted(http):
        if tag == "pin1":
            ratios(f"pinned: HTTP {conns:2d} conns (server core 1) / library engine 1 thr core 1",
                   ("HTTP", "pin1", conns), "rps", ("LIB", "pin1", "engine", 1), "qps")
    for (tag, conns) in sorted(http):
        if tag == "mixed":
            ratios(f"mixed 90/10, {conns} conns / queries only (req/s)",
                   ("HTTP", "mixed", conns), "rps", ("HTTP", "mixed-base", conns), "rps")


if __name__ == "__main__":
    main()
