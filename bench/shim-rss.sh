#!/usr/bin/env bash
# The resident memory of the shim (`mydocker shim ID`) that watches a
# detached container while it waits: VmRSS, its anonymous part (Go heap,
# stacks, runtime metadata: the shim's own) and its file part (pages of the
# mydocker binary it maps, shared with every other mydocker process through
# the page cache), the peak (VmHWM), Pss and the threads; for
# `run -d busybox sleep 1000` with --net none, on a bridge network, and on a
# bridge network with a published port; then for a container that writes
# without pause (its log grows) after 10 s.
# Runs in its own network and mount namespace with temporary roots.
#   sudo bench/shim-rss.sh [BINARY]        (default: ./mydocker)
# BINARY is first installed into the temporary directory, as `make install`
# writes it: how the kernel mapped a binary's pages depends on how its page
# cache was filled (the linker's output sits in 2 MB folios, a file written
# by install or cp in smaller ones), and a shim maps whole folios.
# AS_IS=1 measures BINARY where it is, page cache as it is.
#   WAIT=130 sudo bench/shim-rss.sh        measure later (the Go runtime's
#                                          periodic GC runs every 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-./mydocker}")
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$bin"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-shimrss-XXXXXX)
md="$bin --root $work/run --data-root $work/lib --log-level warn"
cleanup() {
	$md rm -f rss >/dev/null 2>&1 || true
	$md network rm rssnet >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${AS_IS:-}" ]; then
	install -m 0755 "$bin" "$work/mydocker"
	md="$work/mydocker --root $work/run --data-root $work/lib --log-level warn"
fi
$md run --rm --net none busybox true # builds the busybox image
$md network create --subnet 10.231.0.0/24 rssnet >/dev/null

kb() { awk -v k="$1:" '$1 == k {print $2}' "$2"; }
printf '%-34s %9s %9s %9s %9s %9s %7s\n' "shim of run -d ..." VmRSS anon file VmHWM Pss threads
measure() { # LABEL SETTLE RUN-ARGS...
	local label=$1 settle=$2
	shift 2
	$md run -d --name rss "$@" >/dev/null
	sleep "$settle"
	local id shim
	id=$($md inspect rss | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
	shim=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["MonitorPid"])' "$work/run/containers/$id/config.json")
	printf '%-34s %6s kB %6s kB %6s kB %6s kB %6s kB %7s\n' "$label" \
		"$(kb VmRSS /proc/$shim/status)" "$(kb RssAnon /proc/$shim/status)" "$(kb RssFile /proc/$shim/status)" \
		"$(kb VmHWM /proc/$shim/status)" "$(kb Pss /proc/$shim/smaps_rollup)" "$(kb Threads /proc/$shim/status)"
	$md rm -f rss >/dev/null
}
wait=${WAIT:-1}
measure "--net none sleep" "$wait" --net none busybox sleep 1000
measure "--net rssnet sleep" "$wait" --net rssnet busybox sleep 1000
measure "--net rssnet -p 18080:80 sleep" "$wait" --net rssnet -p 18080:80 busybox sleep 1000
measure "--net none, writing (10 s)" 10 --net none busybox sh -c 'while :; do echo hello world; done'
