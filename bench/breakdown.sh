#!/usr/bin/env bash
# Where the milliseconds of a start go: `run --rm --net none busybox true`
# traced N times with perf trace (tracepoints, not ptrace: a few µs per
# event), and for each milestone the median time since the trace began
# (the exec of mydocker run).
#   sudo bench/breakdown.sh [RUNS] [BINARY]
# BINARY defaults to ./mydocker; give an older build to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
bin=$(realpath "${2:-./mydocker}")
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
command -v perf >/dev/null || { echo "perf is needed (Debian: linux-perf)" >&2; exit 1; }
ip link set lo up
work=$(mktemp -d /tmp/mydocker-breakdown-XXXXXX)
trap 'rm -rf "$work"' EXIT
md="$bin --root $work/run --data-root $work/lib --log-level warn"
for _ in 1 2 3; do $md run --rm --net none busybox true; done
for i in $(seq "$runs"); do
	perf trace -o "$work/t$i.txt" -e execve,clone,pivot_root,unshare,seccomp,exit_group,wait4 -- \
		$md run --rm --net none busybox true
done
python3 - "$work" "$runs" <<'PY'
import re, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
# perf trace: "  12.345 ( 0.050 ms): comm/pid syscall(args) = ret"
line = re.compile(r"^\s*([\d.]+) \(\s*([\d.]*)\s*(?:ms)?\): (\S+?)/(\d+) (\w+)\((.*)$")
names = [
    ("init cloned", "the parent clones the init (new namespaces)"),
    ("init exec'd", "the init runs the sealed mydocker"),
    ("rootfs ready", "pivot_root into the container's root"),
    ("cgroupns", "the init starts its cgroup namespace (joined signal)"),
    ("seccomp loaded", "the filter is loaded (go signal received)"),
    ("command exec'd", "execve of the command returns"),
    ("command exited", "the command's exit_group"),
    ("done", "the parent exits, everything released and removed"),
]
got = {n: [] for n, _ in names}
for i in range(1, runs + 1):
    t, parent = {}, None
    for l in open(f"{work}/t{i}.txt"):
        m = line.match(l)
        if not m:
            continue
        ts, dur, comm, pid, call, rest = m.groups()
        end = float(ts) + (float(dur) if dur else 0)
        parent = parent or pid
        def mark(name, at):
            if name not in t:
                t[name] = at
        if call == "clone" and "NEWNS" in rest:
            mark("init cloned", float(ts))
        elif call == "execve" and pid != parent and "init cloned" in t and comm != "true":
            mark("init exec'd", end)
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
        elif call == "exit_group" and comm == "mydocker":
            t["done"] = float(ts)  # the last one: the parent's
    for n in t:
        got[n].append(t[n])
print("%-16s %9s  %s" % ("milestone", "median ms", "what"))
for n, what in names:
    if got[n]:
        print("%-16s %9.1f  %s" % (n, statistics.median(got[n]), what))
PY
