#!/bin/sh
# bench/cni.sh N: time N rounds of the CNI bridge plugin (host-local IPAM)
# ADD and DEL for one network namespace, the networking half of "runc + CNI".
# Runs in a namespace of its own (re-executes itself under unshare), so the
# host's links and rules are never touched. Prints mean ms per ADD and DEL.
set -eu
N=${1:-20}
if [ -z "${IN_BENCH_NS:-}" ]; then
	exec env IN_BENCH_NS=1 unshare --net --mount --propagation private sh "$0" "$@"
fi
ip link set lo up
DIR=$(mktemp -d)
mount -t tmpfs tmpfs "$DIR"
CONF='{"cniVersion":"1.0.0","name":"benchnet","type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,
 "ipam":{"type":"host-local","subnet":"10.88.0.0/24","dataDir":"'"$DIR"'/ipam"}}'
unshare --net sleep 600 & PID=$!
sleep 0.1
now() { date +%s%N; }
add=0; del=0
for i in $(seq "$N"); do
	t0=$(now)
	echo "$CONF" | CNI_COMMAND=ADD CNI_CONTAINERID=bench$i CNI_NETNS=/proc/$PID/ns/net CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null
	t1=$(now)
	echo "$CONF" | CNI_COMMAND=DEL CNI_CONTAINERID=bench$i CNI_NETNS=/proc/$PID/ns/net CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null
	t2=$(now)
	add=$((add + t1 - t0)); del=$((del + t2 - t1))
done
kill $PID
umount "$DIR"; rmdir "$DIR"
echo "cni bridge ADD: $((add / N / 1000)) us   DEL: $((del / N / 1000)) us   (mean of $N)"
