#!/usr/bin/env bash
# bench/bridge.sh [SECONDS] [ROUNDS]: TCP throughput (iperf3) container to
# container on a bridge network, the anchor of the bridge's speed goal
# (issue 15: mydocker keeps at least 0.97x a raw veth + bridge made by hand).
# Three contenders, each an iperf3 client for SECONDS (default 5), ROUNDS
# rounds (default 3) taken in turn, the first of a round rotating, so that
# a drift of the machine's speed hits all alike:
#   hand-made  a bridge br1 made with ip in the same namespace as
#              mydocker's bridge, two namespaces b1, b2 (10.96.0.2, .3/24),
#              each with a veth plugged into it: THE ANCHOR. Bridged
#              frames pass the namespace's iptables (br_netfilter,
#              bridge-nf-call-iptables) as mydocker's do, as on any host
#              with a firewall: only mydocker's own path differs
#   bare       the same in a namespace of its own (hb), with no firewall
#              and no conntrack: what the firewall costs, for reference
#   mydocker   two containers (busybox sleep 1000, `run -d --net bb`) on a
#              bridge network bb (10.97.0.0/24) of mydocker's, with its
#              firewall as a user gets it; iperf3 the host's binary run in
#              their network namespaces (nsenter -t PID -n), the same
#              program as for the hand-made one, so that only the path
#              differs
# Prints each round's Gbit/s and ratio, then the medians and mydocker /
# hand-made. Runs in a network and mount namespace of its own (re-executed
# under unshare) with temporary --root and --data-root: the host is left as
# it was; the containers, the network, the links and namespaces are removed
# on every exit. Builds ./mydocker with `make build` into the temporary
# directory (MYDOCKER_BIN=/path measures another build). Needs iperf3
# (sudo make deps-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-3}
if [ -z "${MYDOCKER_BRIDGE_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BRIDGE_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
command -v iperf3 >/dev/null || { echo "bench/bridge.sh: iperf3 is not installed (sudo make deps-bench)" >&2; exit 1; }
ip link set lo up
work=$(mktemp -d /tmp/mydocker-bridge-bench-XXXXXX)
# --root on tmpfs, as /var/run is on a standard system.
mkdir -p "$work/run" /run/netns
mount -t tmpfs tmpfs "$work/run"
mount -t tmpfs tmpfs /run/netns # this namespace's own
spid= # the iperf3 server running, if any
bin=${MYDOCKER_BIN:-$work/bin/mydocker}
md() { "$bin" --root "$work/run/md" --data-root "$work/lib" --log-level warn "$@"; }
cleanup() {
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || true
	if [ -x "$bin" ]; then
		md rm -f srv cli >/dev/null 2>&1 || true
		md network rm bb >/dev/null 2>&1 || true
	fi
	for i in 1 2; do ip -n hb link del v-a$i 2>/dev/null || true; done
	ip -n hb link del br0 2>/dev/null || true
	for i in 1 2; do ip link del v-b$i 2>/dev/null || true; done
	ip link del br1 2>/dev/null || true
	for n in a1 a2 hb b1 b2; do ip netns del "$n" 2>/dev/null || true; done
	umount /run/netns "$work/run" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -n "${MYDOCKER_BIN:-}" ] || make -s build OUT="$work/bin/mydocker" >/dev/null # the Makefile's static build, as users get it

# The bare one: a bridge in hb, a veth from it into each of a1, a2.
ip netns add hb
ip -n hb link set lo up
ip -n hb link add br0 type bridge
ip -n hb link set br0 up
for i in 1 2; do
	ip netns add a$i
	ip -n a$i link set lo up
	ip -n hb link add v-a$i type veth peer name eth0 netns a$i
	ip -n hb link set v-a$i master br0
	ip -n hb link set v-a$i up
	ip -n a$i addr add 10.98.0.$((i + 1))/24 dev eth0
	ip -n a$i link set eth0 up
done

# The anchor: the same beside mydocker's bridge, in this namespace.
ip link add br1 type bridge
ip link set br1 up
for i in 1 2; do
	ip netns add b$i
	ip -n b$i link set lo up
	ip link add v-b$i type veth peer name eth0 netns b$i
	ip link set v-b$i master br1
	ip link set v-b$i up
	ip -n b$i addr add 10.96.0.$((i + 1))/24 dev eth0
	ip -n b$i link set eth0 up
done

# mydocker's: a bridge network and two containers on it.
md run --rm --net none busybox true # builds the busybox image
md network create --subnet 10.97.0.0/24 bb >/dev/null
md run -d --name srv --net bb busybox sleep 1000 >/dev/null
md run -d --name cli --net bb busybox sleep 1000 >/dev/null
spid_ctr=$(md inspect -f '{{.State.Pid}}' srv)
cpid_ctr=$(md inspect -f '{{.State.Pid}}' cli)
sip=$(md inspect -f '{{.NetworkSettings.IPAddress}}' srv)

# Both paths must carry a packet before they are measured.
ip netns exec a1 busybox ping -c 1 -W 2 10.98.0.3 >/dev/null
ip netns exec b1 busybox ping -c 1 -W 2 10.96.0.3 >/dev/null
nsenter -t "$cpid_ctr" -n busybox ping -c 1 -W 2 "$sip" >/dev/null

. bench/iperf.sh # inns, measure

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; iperf3 -t $secs, $rounds rounds" >&2
for r in $(seq "$rounds"); do
	for k in 0 1 2; do
		case $(((r + k) % 3)) in
		0) measure hand-made b1 b2 10.96.0.3 ;;
		1) measure mydocker "pid:$cpid_ctr" "pid:$spid_ctr" "$sip" ;;
		2) measure bare a1 a2 10.98.0.3 ;;
		esac
	done
	h=$(tail -1 "$work/hand-made") m=$(tail -1 "$work/mydocker") b=$(tail -1 "$work/bare")
	python3 -c 'import sys; h, m, b = map(float, sys.argv[2:]); print("round %s: hand-made %.2f Gbit/s, mydocker %.2f, bare %.2f; mydocker / hand-made %.3f" % (sys.argv[1], h, m, b, m / h))' "$r" "$h" "$m" "$b"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (at the end)" >&2

python3 - "$work" <<'PY'
import os, statistics, sys
runs = {n: [float(x) for x in open(os.path.join(sys.argv[1], n))] for n in ("hand-made", "mydocker", "bare")}
med = {n: statistics.median(v) for n, v in runs.items()}
ratios = [m / h for h, m in zip(runs["hand-made"], runs["mydocker"])]
print("%-10s %14s %14s   %s" % ("", "median Gbit/s", "x hand-made", "rounds"))
for n in ("hand-made", "mydocker", "bare"):
    print("%-10s %14.2f %14.3f   %s" % (n, med[n], med[n] / med["hand-made"], " ".join("%.2f" % x for x in runs[n])))
print("mydocker / hand-made: %.3f (medians); per round %s, median %.3f" % (
    med["mydocker"] / med["hand-made"], " ".join("%.3f" % x for x in ratios), statistics.median(ratios)))
PY
