#!/usr/bin/env bash
# Benchmarks mydocker side by side with crun and runc, in one run, as
# ratios: `run --rm --net none busybox true` from start to exit, the median
# of N runs each; and the peak RSS of the shim of a detached `sleep`.
# Runs in its own network and mount namespace with temporary roots.
#   sudo make bench            (or: sudo bench/run.sh [RUNS])
# BEFORE=/path/to/an/older/mydocker adds it to the same run, as "before",
# for a change's cost measured side by side, and then paired (interleaved).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-bench-XXXXXX)
# The state directories (mydocker's --root, crun's and runc's) on a tmpfs,
# as their defaults under /run are on a standard system; images and layers
# on the disk, as /var/lib/mydocker is.
mkdir -p "$work/state"
mount -t tmpfs tmpfs "$work/state"
trap 'umount "$work/state"; rm -rf "$work"' EXIT
state=$work/state
md="$PWD/mydocker --root $state/run --data-root $work/lib --log-level warn"
$md run --rm busybox true # builds the busybox image

# crun and runc run the same rootfs from an OCI bundle.
bundle=$work/bundle
mkdir -p "$bundle"
cp -a "$work/lib/images/busybox" "$bundle/rootfs"
(cd "$bundle" && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/' config.json)
# crun refuses this host's hybrid cgroups (v1 controllers + an empty cgroup2
# at /sys/fs/cgroup/unified); in this private mount namespace it is hidden.
umount /sys/fs/cgroup/unified 2>/dev/null || true

before=()
if [ -n "${BEFORE:-}" ]; then
	before=(-n before "$BEFORE --root $state/run-before --data-root $work/lib --log-level warn run --rm --net none busybox true")
fi
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
	-n mydocker "$md run --rm --net none busybox true" "${before[@]}" \
	-n crun "crun --root $state/crun run --bundle $bundle b1" \
	-n runc "runc --root $state/runc run --bundle $bundle b2" >&2

# The same, spaced: each start after 50 ms of quiet, as a start a user
# types. Back to back, a start whose cgroup join comes within one RCU grace
# period of the last one's does not wait for one (doc/cgroups.md: 5 to 30
# ms): crun's starts are short enough to ride on each other's, mydocker's
# prime their own; spaced, every start pays it, crun's and runc's too.
hyperfine -N --warmup 3 --runs "$runs" --prepare "sleep 0.05" --export-json "$work/spaced.json" \
	-n mydocker "$md run --rm --net none busybox true" "${before[@]}" \
	-n crun "crun --root $state/crun run --bundle $bundle b1" \
	-n runc "runc --root $state/runc run --bundle $bundle b2" >&2
python3 - "$work/h.json" "$work/spaced.json" <<'PY'
import json, sys
b2b, spaced = ({x["command"]: x["median"] * 1000 for x in json.load(open(f))["results"]} for f in sys.argv[1:])
print("%-10s %14s %10s %14s %10s" % ("", "back to back", "x crun", "spaced 50 ms", "x crun"))
for k in ("mydocker", "before", "crun", "runc"):
    if k in b2b:
        print("%-10s %14.1f %10.2f %14.1f %10.2f" % (k, b2b[k], b2b[k] / b2b["crun"], spaced[k], spaced[k] / spaced["crun"]))
PY

# A change's cost, paired: hyperfine runs each command's runs in a block, so
# a slow drift of the machine (2 shared cores) can move one median by more
# than the change. Here mydocker and before alternate, run by run, and the
# median of the differences is the change's cost.
if [ -n "${BEFORE:-}" ]; then
	for i in $(seq "$runs"); do
		t0=$(date +%s%N)
		$md run --rm --net none busybox true
		t1=$(date +%s%N)
		$BEFORE --root "$state/run-before" --data-root "$work/lib" --log-level warn run --rm --net none busybox true
		t2=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) $(((t2 - t1) / 1000))
	done >"$work/paired.txt"
	python3 - "$work/paired.txt" <<'PY'
import statistics, sys
pairs = [tuple(int(x) / 1000 for x in l.split()) for l in open(sys.argv[1])]
d = statistics.median(a - b for a, b in pairs)
print("paired, %d runs interleaved: mydocker %.1f ms, before %.1f ms, median difference %+.2f ms" % (
    len(pairs), statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs), d))
PY
fi

# Peak RSS of the shim watching a detached sleep.
$md run -d --name rss busybox sleep 1000 >/dev/null
id=$($md inspect rss | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
shim=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["MonitorPid"])' "$state/run/containers/$id/config.json")
echo "shim peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$shim/status) (pid $shim)"
$md rm -f rss >/dev/null

# The overlay's throughput anchor: iperf3 over VXLAN between two simulated
# hosts, hand-made, and mydocker's containers on an overlay network in the
# same rounds (bench/overlay.sh; it needs iperf3, from deps-bench, and etcd);
# then what the overlay adds to a start (bench/overlay-start.sh).
bench/overlay.sh
bench/overlay-start.sh
