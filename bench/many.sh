#!/usr/bin/env bash
# bench/many.sh [N] [BINARY]: N containers (default 50) on one bridge
# network, started one after the other with
#   mydocker run -d --net X busybox sleep 1000
# and the wall time of each, beside the anchors measured in the same run:
# the CNI bridge plugin's ADD alone (host-local IPAM, ipMasq, isGateway;
# a network namespace per container, N of them kept, as N containers keep
# theirs) and `crun run --detach` alone of the same rootfs (N kept). Prints
# the mean per container over the first and the last tenth, and over all,
# for each, wall and CPU time (user + system of the command and of the
# children it waited for: steadier than the wall on a loaded machine), and
# mydocker's as a ratio to CNI ADD + crun; then removes the
# N containers (`rm -f`, timed likewise) and the anchors'.
# What grows with N shows as the last tenth's mean above the first's.
# Runs in its own network and mount namespace with temporary roots (--root
# on tmpfs, as /var/run is): the host is left as it was.
#   sudo bench/many.sh [N] [BINARY]      (default: the Makefile's build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-many-XXXXXX)
mkdir -p "$work/run" "$work/netns"
mount -t tmpfs tmpfs "$work/run"
sleepers=()
cleanup() {
	for i in $(seq "$n"); do crun --root "$work/crun" delete -f "c$i" >/dev/null 2>&1 || true; done
	for p in "${sleepers[@]}"; do kill "$p" 2>/dev/null || true; done
	umount "$work/run" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${2:-}" ]; then
	install -m 0755 "$2" "$work/mydocker"
else
	make -s build OUT="$work/mydocker" >/dev/null # the Makefile's static build, as users get it
fi
md="$work/mydocker --root $work/run --data-root $work/lib --log-level warn"
$md run --rm --net none busybox true # builds the busybox image
$md network create --subnet 10.40.0.0/24 many >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2

# timed CMD...: runs CMD, quiet, and prints its wall and CPU seconds.
TIMEFORMAT='%3R %3U %3S'
timed() { { time "$@" >/dev/null 2>&1; } 2>&1; }
# times LABEL FILE: the mean ms of the first and last tenth and of all,
# wall and CPU.
times() {
	python3 - "$1" "$2" <<'PY'
import sys
label, path = sys.argv[1], sys.argv[2]
rows = [[float(x) * 1000 for x in l.split()] for l in open(path) if l.strip()]
wall = [r[0] for r in rows]
cpu = [r[1] + r[2] for r in rows]
k = max(1, len(rows) // 10)
mean = lambda xs: sum(xs) / len(xs)
print("%-26s %7.1f %7.1f %7.1f   %7.1f %7.1f %7.1f" % (label, mean(wall[:k]), mean(wall[-k:]), mean(wall),
      mean(cpu[:k]), mean(cpu[-k:]), mean(cpu)))
PY
}

# mydocker: N detached containers on one network.
for i in $(seq "$n"); do
	timed $md run -d --name "m$i" --net many busybox sleep 1000
done >"$work/md.txt"

# CNI bridge ADD alone: a network namespace per container, kept.
conf='{"cniVersion":"1.0.0","name":"benchnet","type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","subnet":"10.88.0.0/24","dataDir":"'"$work"'/cni"}}'
for i in $(seq "$n"); do
	unshare --net sleep 1000 &
	sleepers+=($!)
done
sleep 0.2
echo "$conf" >"$work/cni.json"
for i in $(seq "$n"); do
	CNI_COMMAND=ADD CNI_CONTAINERID="b$i" CNI_NETNS="/proc/${sleepers[$((i - 1))]}/ns/net" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni timed /usr/lib/cni/bridge <"$work/cni.json"
done >"$work/cni.txt"

# crun run --detach alone, the same rootfs as an OCI bundle.
bundle=$work/bundle
mkdir -p "$bundle"
cp -a "$work/lib/images/busybox" "$bundle/rootfs"
(cd "$bundle" && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sleep", "1000"/' config.json)
# crun refuses this host's hybrid cgroups (v1 controllers + an empty cgroup2
# at /sys/fs/cgroup/unified); in this private mount namespace it is hidden.
umount /sys/fs/cgroup/unified 2>/dev/null || true
for i in $(seq "$n"); do
	timed crun --root "$work/crun" run --detach --bundle "$bundle" "c$i" </dev/null
done >"$work/crun.txt"

# mydocker rm -f of the N containers.
for i in $(seq "$n"); do
	timed $md rm -f "m$i"
done >"$work/rm.txt"

printf "%-26s %23s   %23s\n" "$n containers, ms each" "wall" "CPU"
printf "%-26s %7s %7s %7s   %7s %7s %7s\n" "" "first" "last" "all" "first" "last" "all"
times "mydocker run -d --net" "$work/md.txt"
times "CNI bridge ADD" "$work/cni.txt"
times "crun run --detach" "$work/crun.txt"
times "mydocker rm -f" "$work/rm.txt"
python3 - "$work/md.txt" "$work/cni.txt" "$work/crun.txt" <<'PY'
import sys
rows = [[[float(x) for x in l.split()] for l in open(p) if l.strip()] for p in sys.argv[1:]]
wall = [sum(r[0] for r in f) for f in rows]
cpu = [sum(r[1] + r[2] for r in f) for f in rows]
print("mydocker run -d --net / (CNI ADD + crun run --detach): wall %.2f, CPU %.2f" % (
    wall[0] / (wall[1] + wall[2]), cpu[0] / (cpu[1] + cpu[2])))
PY
$md network rm many >/dev/null
