#!/usr/bin/env bash
# Where the milliseconds of a start go: `run --rm --net none busybox true`
# traced N times with perf trace (tracepoints, not ptrace: a few µs per
# event), and for each milestone the median time since the trace began
# (the exec of mydocker run). Several builds are traced run by run in turn
# (interleaved, so the machine's drift falls on all of them alike) and shown
# side by side, with the milliseconds between milestones.
#   sudo bench/breakdown.sh [RUNS] [BINARY...]
# BINARY defaults to ./mydocker; give an older build too to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
shift || true
[ $# -gt 0 ] || set -- ./mydocker
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$runs" "${bins[@]}"
fi
command -v perf >/dev/null || { echo "perf is needed (Debian: linux-perf)" >&2; exit 1; }
ip link set lo up
work=$(mktemp -d /tmp/mydocker-breakdown-XXXXXX)
trap 'rm -rf "$work"' EXIT
for b in "${!bins[@]}"; do
	md="${bins[$b]} --root $work/run$b --data-root $work/lib --log-level warn"
	for _ in 1 2 3; do $md run --rm --net none busybox true; done
done
for i in $(seq "$runs"); do
	for b in "${!bins[@]}"; do
		perf trace -o "$work/t$b-$i.txt" -e execve,clone,clone3,openat,read,mount,pivot_root,unshare,seccomp,exit_group,wait4 -- \
			"${bins[$b]}" --root "$work/run$b" --data-root "$work/lib" --log-level warn run --rm --net none busybox true
	done
done
python3 - "$work" "$runs" "${bins[@]}" <<'PY'
import re, statistics, sys
work, runs, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
# perf trace: "  12.345 ( 0.050 ms): comm/pid syscall(args) = ret"
line = re.compile(r"^\s*([\d.]+) \(\s*([\d.]*)\s*(?:ms)?\): (\S+?)/(\d+) (\w+)\((.*)$")
names = [
    ("parent main", "the parent's Go runtime and package initialisers are done: its first file opened after the runtime's first thread"),
    ("init cloned", "the parent clones the init (new namespaces)"),
    ("init exec'd", "the init execs the sealed mydocker"),
    ("init main", "the init reads its spec or program (fd 3): its own start is done"),
    ("first mount", "the init's first mount (/ made private)"),
    ("rootfs ready", "pivot_root into the container's root"),
    ("cgroupns", "the init starts its cgroup namespace (joined signal)"),
    ("seccomp loaded", "the filter is loaded (go signal received)"),
    ("command exec'd", "execve of the command returns"),
    ("command exited", "the command's exit_group"),
    ("done", "the parent exits, everything released and removed"),
]
# A build with joinprime's constructor starts a thread of its own before
# the Go runtime's first: "parent main" waits for the second clone3 there.
primer = [b"mydocker_prime_join" in open(b, "rb").read() for b in bins]
def milestones(path, threads_before_main):
    t, parent, init, threads = {}, None, None, 0
    def mark(name, at):
        if name not in t:
            t[name] = at
    for l in open(path):
        m = line.match(l)
        if not m:
            continue
        ts, dur, comm, pid, call, rest = m.groups()
        end = float(ts) + (float(dur) if dur else 0)
        parent = parent or pid
        if pid == parent and call == "clone3":
            threads += 1  # the runtime's first thread: its own files are read
        elif pid == parent and call == "openat" and threads >= threads_before_main:
            mark("parent main", float(ts))
        elif call == "clone" and "NEWNS" in rest:
            mark("init cloned", float(ts))
        elif call == "execve" and pid != parent and "init cloned" in t and comm != "true":
            mark("init exec'd", end)
            init = pid
        elif call == "read" and pid == init and rest.startswith("fd: 3,"):
            mark("init main", float(ts))
        elif call == "mount" and pid == init:
            mark("first mount", float(ts))
        elif call == "pivot_root":
            mark("rootfs ready", end)
        elif call == "unshare":
            mark("cgroupns", end)
        elif call == "seccomp":
            mark("seccomp loaded", end)
        elif call == "execve" and comm == "true":
            mark("command exec'd", end)
        elif call == "exit_group" and comm == "true":
            mark("command exited", float(ts))
        elif call == "exit_group" and pid != init and comm != "true":
            t["done"] = float(ts)  # the last one: the parent's
    return t
med = []
for b in range(len(bins)):
    got = {n: [] for n, _ in names}
    for i in range(1, runs + 1):
        for n, v in milestones(f"{work}/t{b}-{i}.txt", 2 if primer[b] else 1).items():
            got[n].append(v)
    med.append({n: statistics.median(v) for n, v in got.items() if v})
for b, path in enumerate(bins):
    print(f"[{b}] {path}")
print("milestone, median ms since `mydocker run` was exec'd (+ ms since the milestone before)")
print("%-16s" % "" + "".join("%18s" % f"[{b}]" for b in range(len(bins))))
for n, what in names:
    cells = []
    for m in med:
        if n not in m:
            cells.append("%18s" % "-")
            continue
        prev = [m[p] for p, _ in names[:[x for x, _ in names].index(n)] if p in m]
        step = m[n] - prev[-1] if prev else m[n]
        cells.append("%18s" % ("%.1f (+%.1f)" % (m[n], step)))
    print("%-16s" % n + "".join(cells) + "  " + what)
PY
