#!/usr/bin/env python3
"""The leak gate of the sanitizer pass (scripts/test).

LeakSanitizer runs there with exitcode=0 and no suppressions, so its reports land in each test's
output without failing the test by themselves. This reads ctest's log of every test's output
(Testing/Temporary/LastTest.log) and fails a test when
  - a leaked block's stack has a frame outside ONNX Runtime and the C/C++ runtime: the leak is
    ours (or a library's we call), or
  - ONNX Runtime's own leaks in the test's process exceed LIMIT bytes. ONNX Runtime (not built
    with the sanitizer; its frames carry no names) keeps a few process-lifetime blocks, 470-930
    bytes here (thread-pool and registry state); a session or tensor that Mosaic fails to release
    is far larger, or repeats per call.
Prints one line per failing test and, last, "LSAN-GATE failed=N"; exits 1 if N > 0.
Usage: lsan_gate.py LastTest.log [LIMIT]"""
import re
import sys

RUNTIME = re.compile(r"libonnxruntime\.so|libc\.so|libstdc\+\+\.so|ld-linux|nptl/|"
                     r"/libsanitizer/|clone3\.S|libgcc_s\.so")
LEAK = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in \d+ object\(s\) allocated from:")
FRAME = re.compile(r"^\s+#(\d+) 0x[0-9a-f]+ (.*)$")


def tests(log):
    name, lines = None, []
    for line in log:
        m = re.match(r'^\d+/\d+ Test: (.+)$', line)
        if m:
            if name:
                yield name, lines
            name, lines = m.group(1).strip(), []
        elif name:
            lines.append(line.rstrip("\n"))
    if name:
        yield name, lines


def check(lines, limit):
    """Why this test's leaks fail the gate, or None."""
    total, ours, i = 0, [], 0
    while i < len(lines):
        m = LEAK.match(lines[i])
        i += 1
        if not m:
            continue
        total += int(m.group(2))
        frames = []
        while i < len(lines) and FRAME.match(lines[i]):
            frames.append(FRAME.match(lines[i]))
            i += 1
        outside = [f.group(2) for f in frames if f.group(1) != "0" and not RUNTIME.search(f.group(2))]
        if outside:
            ours.append(f"{m.group(2)} bytes from {outside[0]}")
    if ours:
        return "leaks outside ONNX Runtime: " + "; ".join(ours[:3])
    if total > limit:
        return f"ONNX Runtime leaked {total} bytes, over the gate's {limit}"
    return None


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    failed = 0
    with open(path, errors="replace") as log:
        for name, lines in tests(log):
            why = check(lines, limit)
            if why:
                failed += 1
                print(f"LSAN-GATE {name}: {why}")
    print(f"LSAN-GATE failed={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
