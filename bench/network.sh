#!/bin/sh
# bench/network.sh [N]: mean wall time of `mydocker run --rm --net testnet busybox
# true` against `--net none`, and of runc + the CNI bridge plugin (ADD, run,
# DEL) for the same busybox rootfs. Everything runs in a network and mount
# namespace of its own (the script re-executes itself under unshare), with
# temporary --root/--data-root, so the host is left as it was.
set -eu
N=${1:-20}
if [ -z "${IN_BENCH_NS:-}" ]; then
	exec env IN_BENCH_NS=1 unshare --net --mount --propagation private sh "$0" "$@"
fi
HERE=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'umount "$T/run" 2>/dev/null; rm -rf "$T"' EXIT
ip link set lo up
make -s -C "$HERE" build OUT="$T/mydocker" >/dev/null # the Makefile's static build, as users get it
# --root on tmpfs, as /var/run is on a standard system (fsync is free there;
# on this VM /run is on ext4). BENCH_ROOT_DISK=1 keeps it on disk.
mkdir -p "$T/run"
[ -n "${BENCH_ROOT_DISK:-}" ] || mount -t tmpfs tmpfs "$T/run"
M="$T/mydocker --root $T/run --data-root $T/lib --log-level warn"
mkdir -p "$T/rootfs/bin" "$T/rootfs/proc" "$T/rootfs/sys" "$T/rootfs/dev" "$T/rootfs/etc"
cp /bin/busybox "$T/rootfs/bin/"
for c in sh true; do ln -s busybox "$T/rootfs/bin/$c"; done
$M image import "$T/rootfs" busybox >/dev/null
$M network create --subnet 192.168.0.0/24 testnet 2>/dev/null

now() { date +%s%N; }
bench() { # label, command...
	label=$1; shift
	"$@" >/dev/null 2>&1 # warm up
	t0=$(now)
	i=0; while [ $i -lt "$N" ]; do "$@" >/dev/null; i=$((i + 1)); done
	t1=$(now)
	echo "$label: $(( (t1 - t0) / N / 1000 )) us"
}
bench "mydocker run --rm --net none    busybox true" $M run --rm --net none busybox true
bench "mydocker run --rm --net testnet busybox true" $M run --rm --net testnet busybox true

# runc + CNI bridge: the same rootfs as an OCI bundle, its netns wired by
# the bridge plugin (host-local IPAM) before the run and unwired after.
B="$T/bundle"; mkdir -p "$B"; cp -a "$T/rootfs" "$B/rootfs"
(cd "$B" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
# A second bundle without network wiring, for runc alone.
B2="$T/bundle2"; mkdir -p "$B2"; sed 's|"path": "rootfs"|"path": "'"$B"'/rootfs"|' "$B/config.json" > "$B2/config.json"
mkdir -p "$T/cni"
CONF='{"cniVersion":"1.0.0","name":"benchnet","type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","subnet":"10.88.0.0/24","dataDir":"'"$T"'/cni"}}'
runc_cni() {
	ip netns add benchns
	echo "$CONF" | CNI_COMMAND=ADD CNI_CONTAINERID=b1 CNI_NETNS=/run/netns/benchns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null
	runc --root "$T/runc" run --bundle "$B" b1 </dev/null
	echo "$CONF" | CNI_COMMAND=DEL CNI_CONTAINERID=b1 CNI_NETNS=/run/netns/benchns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null
	ip netns del benchns
}
# Put the runc container into the CNI-wired netns.
python3 - "$B/config.json" <<'PY'
import json,sys
p=sys.argv[1]; c=json.load(open(p))
for ns in c["linux"]["namespaces"]:
    if ns["type"]=="network": ns["path"]="/run/netns/benchns"
json.dump(c,open(p,"w"))
PY
mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
bench "runc run + CNI bridge ADD + DEL          " runc_cni
bench "runc run alone (its own empty netns)     " runc --root "$T/runc2" run --bundle "$B2" b2
$M network rm testnet 2>/dev/null
