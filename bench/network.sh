#!/usr/bin/env bash
# bench/network.sh [RUNS]: mydocker's network operations side by side, as
# ratios, in one run (hyperfine, RUNS runs each, default 30):
#   - `network create` + `network rm` of a bridge network, against a plain
#     script doing the same with ip and iptables (6 processes: the bridge,
#     its address, up, one MASQUERADE rule; the rule and the bridge out),
#     and against the CNI bridge plugin's ADD + DEL (host-local IPAM, ipMasq,
#     isGateway: its bridge is made by the first ADD and kept);
#   - `run --rm --net N busybox true` against runc + CNI bridge ADD + DEL on
#     the same rootfs;
#   - the processes each operation starts (strace -f -e trace=execve):
#     iptables ones, and all but mydocker's own (its init, its shim).
# BEFORE=/path/to/an/older/mydocker adds it to the same run, and then a
# paired comparison (the two alternate, run by run; the median of the
# differences is the change's cost, steady where the machine's speed drifts).
# Everything runs in a network and mount namespace of its own (the script
# re-executes itself under unshare) with temporary roots: the host is left
# as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-bench-XXXXXX)
# --root on tmpfs, as /var/run is on a standard system.
mkdir -p "$work/run" /run/netns
mount -t tmpfs tmpfs "$work/run"
mount -t tmpfs tmpfs /run/netns # this namespace's own, for the CNI netns
trap 'ip netns del benchns 2>/dev/null; umount /run/netns "$work/run" 2>/dev/null; rm -rf "$work"' EXIT
make -s build OUT="$work/mydocker" >/dev/null # the Makefile's static build, as users get it
md="$work/mydocker --root $work/run/new --data-root $work/lib --log-level warn"
$md run --rm --net none busybox true # builds the busybox image

# One script per contender: the same sh around each.
cat >"$work/mydocker.sh" <<EOF
$md network create --subnet 10.30.0.0/24 bn >/dev/null && $md network rm bn >/dev/null
EOF
cat >"$work/script.sh" <<'EOF'
ip link add bn type bridge && ip addr add 10.30.0.1/24 dev bn && ip link set bn up &&
iptables -t nat -A POSTROUTING -s 10.30.0.0/24 ! -o bn -j MASQUERADE &&
iptables -t nat -D POSTROUTING -s 10.30.0.0/24 ! -o bn -j MASQUERADE && ip link del bn
EOF
ip netns add benchns
conf='{"cniVersion":"1.0.0","name":"benchnet","type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","subnet":"10.88.0.0/24","dataDir":"'"$work"'/cni"}}'
cat >"$work/cni.sh" <<EOF
echo '$conf' | CNI_COMMAND=ADD CNI_CONTAINERID=b1 CNI_NETNS=/run/netns/benchns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null &&
echo '$conf' | CNI_COMMAND=DEL CNI_CONTAINERID=b1 CNI_NETNS=/run/netns/benchns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null
EOF
before=()
if [ -n "${BEFORE:-}" ]; then
	bmd="$BEFORE --root $work/run/before --data-root $work/lib --log-level warn"
	echo "$bmd network create --subnet 10.30.0.0/24 bn >/dev/null && $bmd network rm bn >/dev/null" >"$work/before.sh"
	before=(-n before "sh $work/before.sh")
fi

# runc + CNI for a whole run: the same rootfs as an OCI bundle, in the
# CNI-wired netns.
bundle=$work/bundle
mkdir -p "$bundle"
cp -a "$work/lib/images/busybox" "$bundle/rootfs"
(cd "$bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/' config.json)
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
for ns in c["linux"]["namespaces"]:
    if ns["type"] == "network": ns["path"] = "/run/netns/benchns"
json.dump(c, open(p, "w"))
PY
cat >"$work/runc-cni.sh" <<EOF
echo '$conf' | CNI_COMMAND=ADD CNI_CONTAINERID=b2 CNI_NETNS=/run/netns/benchns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null &&
runc --root $work/runc run --bundle $bundle b2 </dev/null &&
echo '$conf' | CNI_COMMAND=DEL CNI_CONTAINERID=b2 CNI_NETNS=/run/netns/benchns CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null
EOF
$md network create --subnet 10.31.0.0/24 rn >/dev/null

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
	-n mydocker "sh $work/mydocker.sh" "${before[@]}" \
	-n script "sh $work/script.sh" \
	-n cni "sh $work/cni.sh" \
	-n "run --net" "$md run --rm --net rn busybox true" \
	-n "runc+cni" "sh $work/runc-cni.sh" >&2

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print("network create + rm       median ms   x script   x CNI ADD+DEL")
for k, label in (("mydocker", "mydocker"), ("before", "before"), ("script", "ip + iptables script"), ("cni", "CNI bridge ADD + DEL")):
    if k in r:
        print("%-24s %10.1f %10.2f %10.2f" % (label, r[k], r[k] / r["script"], r[k] / r["cni"]))
print("run --rm --net busybox true        median ms   x runc+CNI")
print("%-33s %10.1f %10.2f" % ("mydocker", r["run --net"], r["run --net"] / r["runc+cni"]))
print("%-33s %10.1f %10.2f" % ("runc + CNI bridge ADD + DEL", r["runc+cni"], 1))
PY

if [ -n "${BEFORE:-}" ]; then
	for i in $(seq "$runs"); do
		t0=$(date +%s%N)
		sh "$work/mydocker.sh"
		t1=$(date +%s%N)
		sh "$work/before.sh"
		t2=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) $(((t2 - t1) / 1000))
	done >"$work/paired.txt"
	python3 - "$work/paired.txt" <<'PY'
import statistics, sys
pairs = [tuple(int(x) / 1000 for x in l.split()) for l in open(sys.argv[1])]
print("paired create + rm, %d runs interleaved: mydocker %.1f ms, before %.1f ms, median difference %+.2f ms" % (
    len(pairs), statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
    statistics.median(a - b for a, b in pairs)))
PY
fi

# Processes per operation: every execve but the command's own and
# mydocker's re-executions of itself (an init; a container's command
# counts). strace -f waits for every process it follows: the operations
# counted leave none running (a detached container, whose shim lives on, is
# started and removed uncounted).
execs() { # label, mydocker binary, args...
	label=$1 bin=$2; shift 2
	strace -f -qq -e trace=execve -e signal=none -o "$work/trace" "$bin" --root "$work/run/$(basename "$bin")" \
		--data-root "$work/lib" --log-level warn "$@" >/dev/null 2>&1 || true
	all=$(grep 'execve(' "$work/trace" | grep -v ' = -1 ' | grep -v "execve(\"$bin\"" | grep -vc 'execve("/proc/self/' || true)
	ipt=$(grep 'execve(' "$work/trace" | grep -v ' = -1 ' | grep -c 'execve("[^"]*/ip6\?tables' || true)
	printf "%-52s %10s %10s\n" "$label" "$ipt" "$all"
}
count() { # binary
	b=$1
	m="$b --root $work/run/$(basename "$b") --data-root $work/lib --log-level warn"
	printf "%-52s %10s %10s\n" "processes per operation ($(basename "$b"))" iptables all
	execs "network create" "$b" network create --subnet 10.32.0.0/24 pn
	execs "network create (a second network)" "$b" network create --subnet 10.33.0.0/24 pn2
	execs "run --rm --net pn -p 18080:80 busybox true" "$b" run --rm --net pn -p 18080:80 busybox true
	$m run -d --name pc --net pn busybox sleep 600 >/dev/null
	execs "network connect pn2 pc" "$b" network connect pn2 pc
	execs "network disconnect pn2 pc" "$b" network disconnect pn2 pc
	$m rm -f pc >/dev/null
	execs "network rm (another left)" "$b" network rm pn2
	execs "network rm (the last)" "$b" network rm pn
}
$md network rm rn >/dev/null
count "$work/mydocker"
if [ -n "${BEFORE:-}" ]; then
	cp "$BEFORE" "$work/before"
	count "$work/before"
fi
