#!/usr/bin/env bash
# bench/overlay.sh [SECONDS] [ROUNDS]: TCP throughput (iperf3) across two
# simulated hosts over VXLAN, the anchor of the overlay's speed goal
# (container to container on an overlay network: at least 0.9x a hand-made
# vxlan pair between the same namespaces). Two hosts h1, h2 (network
# namespaces, eth0 10.99.0.11 and .12 on an underlay bridge ul0), each with
# a "container" namespace (c1 10.200.1.2, c2 10.200.2.2) behind a bridge,
# all made with ip commands only. Contenders, each an iperf3 client for
# SECONDS (default 5), ROUNDS rounds (default 3) taken in turn so that a
# drift of the machine's speed hits all alike; the median of each, and its
# ratio to the anchor:
#   underlay   h1 -> h2 on the underlay itself, no VXLAN (the ceiling)
#   host-pair  h1 -> h2 over a hand-made vxlan pair (vx-pair: remote
#              given, an address on each device)
#   ctr-pair   c1 -> c2, the hosts routing the containers' subnets to each
#              other over that pair: THE ANCHOR, a hand-made vxlan pair
#              between the same namespaces as mydocker's run
#   ctr-l3     c1 -> c2 over flannel's L3 shape made by hand (routed into
#              vx-ov1 with an onlink route, a permanent neighbour and an fdb
#              entry): what network/overlay programs, without mydocker
#   mydocker   a container on h1 -> one on h2, as mydocker runs them: each
#              host's mydocker (its own --root, --data-root, --kv,
#              --advertise-addr) on an overlay network md1 (10.210.0.0/16;
#              vx-ov1 is the hand-made one's) kept in etcd on a third
#              namespace (e0, 10.99.0.2); the containers are busybox sleep,
#              iperf3 the host's binary run in their network namespaces
#              (nsenter -n): the same program, in the same build, as for
#              the hand-made contenders, so that only the path differs.
#              Left out with MYDOCKER=0 (or when ./mydocker is not built).
# More contenders go beside them: EXTRA_CONTENDERS="NAME
# CLIENT_NS SERVER_NS SERVER_IP ROUTE" lines (a namespace is an `ip netns`
# name, or pid:PID for a process's; ROUTE is pair, ov or -, how h1 and h2
# route 10.200.0.0/16 while it runs). The hand-made devices take VNIs 41
# and 42 and the subnets 10.200.1.0/24, 10.200.2.0/24, 10.201.0.0/24:
# mydocker's network takes others.
# MODE=start (bench/overlay-start.sh [RUNS]) measures starts instead, on the
# same hosts (see start_bench below).
# Runs in a network and mount namespace of its own (re-executed under
# unshare): the host is left as it was; what mydocker makes (containers,
# cgroups, the watchers) is removed and its processes ended by pid. Needs
# iperf3, hyperfine (make deps-bench) and etcd (make deps).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-3}
if [ -z "${MYDOCKER_OVERLAY_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_OVERLAY_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
command -v iperf3 >/dev/null || { echo "bench/overlay.sh: iperf3 is not installed (sudo make deps-bench)" >&2; exit 1; }
ip link set lo up
work=$(mktemp -d /tmp/mydocker-overlay-bench-XXXXXX)
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns # this namespace's own
spid= # the iperf3 server running, if any
epid= # etcd, once started
mode=${MODE:-throughput}
with_mydocker=${MYDOCKER:-1}
[ -x "${MYDOCKER_BIN:-./mydocker}" ] || with_mydocker=0
[ "$mode" != start ] || with_mydocker=1
cleanup() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || true
	[ -z "$epid" ] || md_cleanup
	for n in h1 h2 c1 c2 e0; do ip netns del "$n" 2>/dev/null || true; done
	umount /run/netns 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The hosts on the underlay, each with its container behind a bridge.
ip link add ul0 type bridge
ip link set ul0 up
for i in 1 2; do
	h=h$i c=c$i
	ip netns add $h
	ip netns add $c
	ip -n $h link set lo up
	ip -n $c link set lo up
	ip link add ul-$h type veth peer name eth0 netns $h
	ip link set ul-$h master ul0
	ip link set ul-$h up
	ip -n $h addr add 10.99.0.1$i/24 dev eth0
	ip -n $h link set eth0 up
	ip netns exec $h sysctl -qw net.ipv4.ip_forward=1
	ip -n $h link add br0 type bridge
	ip -n $h addr add 10.200.$i.1/24 dev br0
	ip -n $h link set br0 up
	ip -n $h link add v-$c mtu 1450 type veth peer name eth0 mtu 1450 netns $c
	ip -n $h link set v-$c master br0
	ip -n $h link set v-$c up
	ip -n $c addr add 10.200.$i.2/24 dev eth0
	ip -n $c link set eth0 up
	ip -n $c route add default via 10.200.$i.1
done

# The hand-made vxlan pair: one device per host, its peer given as remote.
for i in 1 2; do
	o=$((3 - i))
	ip -n h$i link add vx-pair mtu 1450 type vxlan id 41 dstport 4789 local 10.99.0.1$i remote 10.99.0.1$o dev eth0
	ip -n h$i addr add 10.201.0.$i/24 dev vx-pair
	ip -n h$i link set vx-pair up
done

# Flannel's L3 shape, as network/overlay programs it (VTEPOps, PeerOps);
# its route is set by route_via below.
for i in 1 2; do
	o=$((3 - i))
	ip -n h$i link add vx-ov1 address 0e:76:0a:c8:0$i:00 mtu 1450 type vxlan id 42 dstport 4789 local 10.99.0.1$i dev eth0 nolearning
	ip -n h$i addr add 10.200.$i.0/32 dev vx-ov1
	ip -n h$i link set vx-ov1 up
	ip -n h$i neigh replace 10.200.$o.0 lladdr 0e:76:0a:c8:0$o:00 dev vx-ov1 nud permanent
	bridge -n h$i fdb append 0e:76:0a:c8:0$o:00 dev vx-ov1 dst 10.99.0.1$o
done

# route_via pair|ov|-: how each host routes the other's container subnet:
# over the hand-made pair, over vx-ov1, or as it is.
route_via() {
	local i o
	for i in 1 2; do
		o=$((3 - i))
		case $1 in
		pair) ip -n h$i route replace 10.200.$o.0/24 via 10.201.0.$o dev vx-pair ;;
		ov) ip -n h$i route replace 10.200.$o.0/24 via 10.200.$o.0 dev vx-ov1 onlink ;;
		esac
	done
}

. bench/iperf.sh # inns, measure

# mydocker on the same hosts: etcd in a third namespace on the underlay,
# each host's mydocker with its own roots. md HOST ARGS... runs it there.
kv=http://10.99.0.2:2379
bin=${MYDOCKER_BIN:-$PWD/mydocker} # another build, its mydocker-kv beside it
md() {
	local h=$1
	shift
	nsenter --net=/run/netns/"$h" "$bin" --root "$work/$h/run" --data-root "$work/$h/lib" \
		--kv "$kv" --advertise-addr "10.99.0.1${h#h}" --log-level warn "$@"
}
md_setup() {
	ip netns add e0
	ip -n e0 link set lo up
	ip link add ul-e0 type veth peer name eth0 netns e0
	ip link set ul-e0 master ul0
	ip link set ul-e0 up
	ip -n e0 addr add 10.99.0.2/24 dev eth0
	ip -n e0 link set eth0 up
	# Only these flags: an ETCD_* variable of the caller's would change it.
	env $(env | sed -n 's/^\(ETCD[^=]*\)=.*/-u \1/p') nsenter --net=/run/netns/e0 /usr/bin/etcd --name bench \
		--data-dir "$work/etcd" --listen-client-urls $kv --advertise-client-urls $kv \
		--listen-peer-urls http://10.99.0.2:2380 --initial-advertise-peer-urls http://10.99.0.2:2380 \
		--initial-cluster bench=http://10.99.0.2:2380 --initial-cluster-state new >"$work/etcd.log" 2>&1 &
	epid=$!
	local n=0
	until ETCDCTL_API=3 nsenter --net=/run/netns/e0 etcdctl --endpoints=$kv --dial-timeout=1s endpoint health >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -lt 100 ] || { echo "etcd did not start:" >&2; tail -5 "$work/etcd.log" >&2; exit 1; }
		sleep 0.1
	done
	for h in h1 h2; do
		md $h run --rm --net none busybox true # builds the busybox image
	done
	md h1 network create --driver overlay --subnet 10.210.0.0/16 md1 >/dev/null
}
# md_cleanup removes what mydocker made, then ends its watchers and etcd by
# pid: a watcher is `mydocker network watch` with this host's --root.
md_cleanup() {
	local h id pid
	for h in h1 h2; do
		for id in $(md $h ps -a -q 2>/dev/null); do md $h rm -f "$id" >/dev/null 2>&1 || true; done
		md $h network rm br1 >/dev/null 2>&1 || true
	done
	md h1 network rm md1 >/dev/null 2>&1 || true
	for h in h1 h2; do
		for pid in $(grep -l -z -x -F "$work/$h/run" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
			{ tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -q ' network watch ' && kill -9 "$pid" 2>/dev/null || true
		done
	done
	kill "$epid" 2>/dev/null || true
	wait "$epid" 2>/dev/null || true
	epid=
}
# ctr_pid HOST NAME: the pid of a running container's first process.
ctr_pid() { md "$1" inspect -f '{{.State.Pid}}' "$2"; }
ctr_ip() { md "$1" inspect -f '{{.NetworkSettings.IPAddress}}' "$2"; }

# start_bench RUNS (MODE=start): what joining an overlay network adds to a
# start. On h1, already on md1 (a container keeps it joined), and on a
# bridge network br1 of the same host: `run --rm ... busybox true` and
# `run -d ... busybox sleep` (the container removed before each run, not
# timed), hyperfine side by side. Then the join: h2, with no container
# on md1, starts the first one (a lease, a block, the bridge, the vxlan
# device, the peers, the watcher; and leaves again when it exits), beside
# the same on h2's br1. Each as medians, their difference and ratio.
mdcmd() { echo "nsenter --net=/run/netns/$1 $bin --root $work/$1/run --data-root $work/$1/lib --kv $kv --advertise-addr 10.99.0.1${1#h} --log-level warn"; }
start_bench() {
	local runs=$1 h
	for h in h1 h2; do
		md $h network create --subnet 10.22${h#h}.0.0/24 br1 >/dev/null
	done
	md h1 run -d --name keep --net md1 busybox sleep 1000000 >/dev/null
	md h1 run -d --name keepbr --net br1 busybox sleep 1000000 >/dev/null
	local m1 m2 hf="hyperfine -N -w 3 -r $runs --style basic"
	m1=$(mdcmd h1) m2=$(mdcmd h2)
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; $runs runs each" >&2
	$hf --export-json "$work/rm.json" -n overlay "$m1 run --rm --net md1 busybox true" \
		-n bridge "$m1 run --rm --net br1 busybox true" >&2
	$hf --export-json "$work/d.json" --prepare "sh -c '$m1 rm -f dov dbr >/dev/null 2>&1; true'" \
		-n overlay "$m1 run -d --name dov --net md1 busybox sleep 1000000" \
		-n bridge "$m1 run -d --name dbr --net br1 busybox sleep 1000000" >&2
	$hf --export-json "$work/join.json" -n overlay "$m2 run --rm --net md1 busybox true" \
		-n bridge "$m2 run --rm --net br1 busybox true" >&2
	python3 - "$work" <<'PY'
import json, os, statistics, sys
print("%-40s %9s %9s %9s %7s" % ("median ms", "overlay", "bridge", "diff", "ratio"))
for f, what in (("rm", "run --rm, host on the network"), ("d", "run -d, host on the network"), ("join", "run --rm, the host's first (the join)")):
    r = {x["command"]: statistics.median(x["times"]) * 1e3 for x in json.load(open(os.path.join(sys.argv[1], f + ".json")))["results"]}
    print("%-40s %9.1f %9.1f %+9.1f %7.2f" % (what, r["overlay"], r["bridge"], r["overlay"] - r["bridge"], r["overlay"] / r["bridge"]))
PY
}

if [ "$mode" = start ]; then
	md_setup
	start_bench "${1:-30}"
	exit 0
fi

# Every path must carry a packet before it is measured.
ip netns exec h1 busybox ping -c 1 -W 2 10.99.0.12 >/dev/null
ip netns exec h1 busybox ping -c 1 -W 2 10.201.0.2 >/dev/null
for via in pair ov; do
	route_via $via
	ip netns exec c1 busybox ping -c 1 -W 2 10.200.2.2 >/dev/null
done

# contenders: NAME CLIENT_NS SERVER_NS SERVER_IP ROUTE, one a line.
contenders="underlay h1 h2 10.99.0.12 -
host-pair h1 h2 10.201.0.2 -
ctr-pair c1 c2 10.200.2.2 pair
ctr-l3 c1 c2 10.200.2.2 ov"
if [ "$with_mydocker" = 1 ]; then
	md_setup
	md h2 run -d --name srv --net md1 busybox sleep 1000000 >/dev/null
	md h1 run -d --name cli --net md1 busybox sleep 1000000 >/dev/null
	sip=$(ctr_ip h2 srv)
	nsenter -t "$(ctr_pid h1 cli)" -n busybox ping -c 1 -W 2 "$sip" >/dev/null
	contenders="$contenders
mydocker pid:$(ctr_pid h1 cli) pid:$(ctr_pid h2 srv) $sip -"
fi
if [ -n "${EXTRA_CONTENDERS:-}" ]; then
	contenders="$contenders
$EXTRA_CONTENDERS"
fi

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; iperf3 -t $secs, $rounds rounds" >&2
for r in $(seq "$rounds"); do
	while read -r name c s ip via; do
		route_via "$via"
		measure "$name" "$c" "$s" "$ip"
	done <<<"$contenders"
done

python3 - "$work" <<PY
import statistics, sys, os
work = sys.argv[1]
names = """$contenders""".split("\n")
names = [l.split()[0] for l in names if l.strip()]
med = {n: statistics.median(float(x) for x in open(os.path.join(work, n))) for n in names}
anchor = med["ctr-pair"]
print("%-12s %10s %12s   %s" % ("", "Gbit/s", "x ctr-pair", "runs"))
for n in names:
    runs = " ".join("%.2f" % float(x) for x in open(os.path.join(work, n)))
    print("%-12s %10.2f %12.2f   %s" % (n, med[n], med[n] / anchor, runs))
PY
