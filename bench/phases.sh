#!/usr/bin/env bash
# Where the milliseconds of a start go, without tracing: mydocker built
# with its own probe (internal/phases) writes a line as it passes each phase
# when MYDOCKER_PHASES=1; this runs `run --rm --net NET busybox true` RUNS
# times (after 50 ms of quiet each, as a start a user types) and prints the
# median time of each phase since the exec of mydocker, and the step from
# the phase before. The first step is the process's exec, the Go runtime's
# start and the package initialisers before the probe's; "exit" is the
# process gone, as its caller sees it.
#   sudo bench/phases.sh [RUNS] [NET]      (NET: none, the default, or bridge)
# State on a tmpfs (as /run), images and layers on the disk (as /var/lib).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
net=${2:-none}
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-phases-XXXXXX)
mkdir -p "$work/state"
mount -t tmpfs tmpfs "$work/state"
trap 'umount "$work/state"; rm -rf "$work"' EXIT
make -s build OUT="$work/mydocker" >/dev/null
md="$work/mydocker --root $work/state/run --data-root $work/lib --log-level warn"
for _ in 1 2 3; do $md run --rm --net "$net" busybox true; done # the image, the network
for i in $(seq "$runs"); do
	sleep 0.05
	t0=$EPOCHREALTIME # bash's clock: no process of its own
	MYDOCKER_PHASES=1 $md run --rm --net "$net" busybox true 2>"$work/p$i.txt"
	t1=$EPOCHREALTIME
	echo "phase exit-wall ${t0/./} ${t1/./}" >>"$work/p$i.txt"
done
python3 - "$work" "$runs" "$net" <<'PY'
import statistics, sys
work, runs, net = sys.argv[1], int(sys.argv[2]), sys.argv[3]
order, at = [], {}
for i in range(1, runs + 1):
    marks, begin = {}, None
    for line in open("%s/p%d.txt" % (work, i)):
        f = line.split()
        if len(f) < 3 or f[0] != "phase":
            continue
        if f[1] == "begin":
            begin = int(f[2])
        elif f[1] == "exit-wall":
            t0, t1 = int(f[2]), int(f[3])
        else:
            marks[f[1]] = float(f[2])
            if f[1] not in order:
                order.append(f[1])
    go = (begin / 1e3 - t0) / 1e3  # exec, Go runtime start, initialisers (t0, t1 in µs)
    at.setdefault("go-started", []).append(go)
    for k, v in marks.items():
        at.setdefault(k, []).append(go + v)
    at.setdefault("exit", []).append((t1 - t0) / 1e3)
print("run --rm --net %s busybox true: median ms since the exec of mydocker (+ the step), %d runs" % (net, runs))
prev = 0.0
for k in ["go-started"] + order + ["exit"]:
    m = statistics.median(at[k])
    print("%-18s %7.2f  (+%5.2f)" % (k, m, m - prev))
    prev = m
PY
