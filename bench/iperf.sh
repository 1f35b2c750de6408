# shellcheck shell=bash disable=SC2154
# bench/iperf.sh: sourced by the throughput benchmarks (bench/overlay.sh,
# bench/bridge.sh), from the repository's root. They set secs (seconds per
# run) and work (their temporary directory), and kill $spid on exit.
# measure NAME CLIENT_NS SERVER_NS SERVER_IP: one iperf3 run of secs
# seconds; appends the received Gbit/s to $work/NAME. A namespace is an
# `ip netns` name or, for a process's (a mydocker container's), pid:PID.
inns() {
	case $1 in
	pid:*) echo "nsenter -t ${1#pid:} -n" ;;
	*) echo "ip netns exec $1" ;;
	esac
}
measure() {
	local name=$1 cli srv ip=$4
	cli=$(inns "$2") srv=$(inns "$3")
	$srv iperf3 -s -1 -B "$ip" >/dev/null 2>&1 &
	spid=$!
	local n=0
	until $srv ss -ltn 2>/dev/null | grep -q "$ip:5201"; do
		n=$((n + 1))
		[ $n -lt 200 ] || { echo "iperf3 server on $ip did not start" >&2; exit 1; }
		sleep 0.02
	done
	$cli iperf3 -c "$ip" -t "$secs" -J >"$work/$name.json"
	wait "$spid" || true
	spid=
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9)' "$work/$name.json" >>"$work/$name"
}
