#!/bin/sh
# What every mydocker process pays before it does any work, for one or more
# builds: instructions (valgrind's callgrind, steady under load, unlike the
# clock) of `mydocker --version` and of the container init as the parent
# starts it (its command line, _MYDOCKER_CINIT=1, an empty spec pipe on fd
# 3: it stops where it would read its spec or program, so what it runs is
# the start every container pays: a Go runtime before cinit, the C library's
# start after), and Go's inittrace (clock, bytes and allocations of every
# package's init).
#
#   bench/startcost.sh [BINARY...]     (default ./mydocker; build it with
#                                       `make build`, or without -s -w to
#                                       keep the symbols)
# Needs valgrind. Runs as any user; changes nothing.
set -eu
RUNS=${RUNS:-5}
[ $# -gt 0 ] || set -- ./mydocker
command -v valgrind >/dev/null || { echo "startcost: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
out=$(mktemp) && trap 'rm -f "$out"' EXIT

# median of RUNS callgrind counts of the command line given.
# Go's asynchronous preemption signals trip callgrind's signal handling:
# asyncpreemptoff keeps it alive and does not change what starts run;
# GOGC=off keeps the collector, whose timing varies, out of the counts.
ir() {
	i=0
	while [ $i -lt "$RUNS" ]; do
		env ${IR_ENV:-} GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$out" "$@" </dev/null 3</dev/null 2>&1 >/dev/null |
			sed -n 's/.*refs: *//p' | tr -d ,
		i=$((i + 1))
	done | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

for bin in "$@"; do
	echo "== $bin"
	echo "instructions, median of $RUNS:"
	printf '  %-44s %10s\n' "--version" "$(ir "$bin" --version)"
	printf '  %-44s %10s\n' "the init: ... --log-format text init" "$(IR_ENV=_MYDOCKER_CINIT=1 ir "$bin" --log-level info --log-format text init)"
	echo "inittrace, mean of 10 runs of --version: the 12 packages that allocate most, then all"
	i=0
	while [ $i -lt 10 ]; do GODEBUG=inittrace=1 "$bin" --version 2>&1 >/dev/null; i=$((i + 1)); done |
		awk '$1 == "init" {c[$2] += $5 / 10; b[$2] = $8; a[$2] = $10; tc += $5 / 10; tb += $8 / 10; ta += $10 / 10}
		END {for (p in c) printf "  %-60s %7.3f ms %8d B %5d allocs\n", p, c[p], b[p], a[p]
		     printf "  %-60s %7.3f ms %8d B %5d allocs\n", "~ALL", tc, tb, ta}' |
		sort -k4 -n -r | awk 'NR <= 12 || /~ALL/' | sed 's/~ALL/ALL/'
done
