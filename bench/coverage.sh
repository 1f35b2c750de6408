#!/usr/bin/env bash
# Narration coverage: for each verb, the kernel changes strace sees mydocker
# (and every process it starts: init, shim, iptables) make, against the "$"
# lines it narrates, by kind. A kind whose two numbers differ is a change
# that is not narrated, or narrated but not made.
#   sudo bench/coverage.sh            (builds nothing: uses ./mydocker)
# Counted as changes: mount, umount2, pivot_root, mknod, symlink,
# sethostname, unshare(CLONE_NEWCGROUP), kill with a signal, a write-open
# of a file under /proc/sys or /sys/fs/cgroup, mkdir/rmdir of a cgroup,
# a netlink RTM_NEW*/RTM_DEL*/RTM_SET* message, and an iptables run that
# changes a rule or chain (-A -I -D -N -X -F; go-iptables' flush tries -N
# first, which fails on a chain that exists: counted, though it changes
# nothing), seccomp(SECCOMP_SET_MODE_FILTER) and capset. The narration
# counts the same kinds from its "$" lines, and from its "#" lines for what
# no shell command can do (seccomp, a cgroup namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
command -v strace >/dev/null || { echo "coverage.sh needs strace (apt-get install strace)" >&2; exit 1; }
ip link set lo up
work=$(mktemp -d /tmp/mydocker-coverage-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
md="$PWD/mydocker --root $work/run --data-root $work/lib"
$md --log-level warn run --rm --net none busybox true # builds the busybox image

syscalls=mount,umount2,pivot_root,mknod,mknodat,symlink,symlinkat,sethostname,unshare,kill,openat,sendto,sendmsg,execve,mkdir,mkdirat,rmdir,unlinkat,seccomp,capset

# seen FILE: the kernel changes in an strace log, one kind a line.
seen() {
	awk '
	/ = -1 / { next }   # failed calls changed nothing
	/^[0-9]+ +(mount|umount2|pivot_root)\(/ { print "mount"; next }
	/^[0-9]+ +mknod(at)?\(/ { print "node"; next }
	/^[0-9]+ +symlink(at)?\(/ { print "symlink"; next }
	/^[0-9]+ +sethostname\(/ { print "hostname"; next }
	/^[0-9]+ +unshare\(.*CLONE_NEWCGROUP/ { print "namespace"; next }
	/^[0-9]+ +kill\([0-9]+, SIG/ { print "signal"; next }
	/^[0-9]+ +openat\(.*"\/(proc\/sys|sys\/fs\/cgroup)\/[^"]*", O_WRONLY/ { print "file write"; next }
	/^[0-9]+ +(mkdir|mkdirat|rmdir)\(.*"\/sys\/fs\/cgroup\// { print "cgroup dir"; next }
	/^[0-9]+ +unlinkat\(.*"\/sys\/fs\/cgroup\/.*AT_REMOVEDIR/ { print "cgroup dir"; next }
	/^[0-9]+ +seccomp\(SECCOMP_SET_MODE_FILTER/ { print "seccomp"; next }
	/^[0-9]+ +capset\(/ { print "capabilities"; next }
	# A socket in another network namespace is not decoded by name: its
	# types come as numbers (0x10 RTM_NEWLINK ... 0x1d RTM_DELNEIGH).
	/^[0-9]+ +send(to|msg)\(.*nlmsg_type=(RTM_(NEW|DEL|SET)|0x1[0134589cd][ ,}])/ {
		n = gsub(/nlmsg_type=(RTM_(NEW|DEL|SET)[A-Z]+|0x1[0134589cd][ ,}])/, "&"); for (i = 0; i < n; i++) print "netlink"; next }
	/^[0-9]+ +execve\(".*iptables", \[.*"-(A|I|D|N|X|F)"/ { print "iptables"; next }
	' "$1" | sort | uniq -c
}

# narrated FILE: the same kinds in a log's "$" lines.
narrated() {
	sed -n 's/^INFO [$#] \(.*\)/\1/p' "$1" | sed 's/ *pid=[0-9]* source=.*//' | awk '
	{ sub(/^nsenter -t [0-9]+ (-[a-zA-Z] )*/, "") }
	/^the process calls unshare\(CLONE_NEWCGROUP\)/ { print "namespace"; next }
	/seccomp filter|seccomp\(2\)|SECCOMP_SET_MODE_FILTER/ { print "seccomp"; next }
	/^setpriv / { print "capabilities"; next }
	/^(mount|umount) / { print "mount"; next }
	/^sh -c .*pivot_root/ { print "mount"; print "mount"; next }  # pivot_root, umount -l
	/^mknod / { print "node"; next }
	/^ln -s / { print "symlink"; next }
	/^hostname / { print "hostname"; next }
	/^unshare --cgroup/ { print "namespace"; next }
	/^kill / { print "signal"; next }
	/^(echo|cat|printf) .*> \/(proc\/sys|sys\/fs\/cgroup)\// { print "file write"; next }
	/^sysctl -w / { print "file write"; next }
	/^mkdir -p \/sys\/fs\/cgroup/ { for (i = 3; i <= NF; i++) print "cgroup dir"; next }
	/^rmdir \/sys\/fs\/cgroup/ { print "cgroup dir"; next }
	/^ip / { print "netlink"; next }
	/^iptables .* -[FX] / { print "iptables"; next }
	/^iptables / { print "iptables"; next }
	' | sort | uniq -c
}

# measure NAME SCRIPT: run a shell snippet ($md is mydocker) under strace,
# following every process it starts, and print its table. The narration is
# what the snippet's commands log (stop tells what the shim released).
measure() {
	local name=$1 script=$2
	strace -f -qq -s 300 -e trace=$syscalls -e signal=none -o "$work/trace" \
		sh -c "md='$md --log-level info'; $script" >/dev/null 2>"$work/log" || true
	join -t $'\t' -a1 -a2 -e 0 -o 0,1.2,2.2 \
		<(seen "$work/trace" | awk '{c=$1; $1=""; sub(/^ /,""); print $0"\t"c}' | sort) \
		<(narrated "$work/log" | awk '{c=$1; $1=""; sub(/^ /,""); print $0"\t"c}' | sort) |
		awk -F'\t' -v v="$name" '
		{ printf "%-22s %-12s %6d %9d%s\n", v, $1, $2, $3, ($2 == $3 ? "" : "   <-"); s += $2; n += $3 }
		END { printf "%-22s %-12s %6d %9d\n\n", v, "all", s, n }'
}

printf '%-22s %-12s %6s %9s\n' verb kind seen narrated
measure "network create" '$md network create --subnet 10.77.0.0/24 covnet'
# The shim of a detached container is traced too: stop ends it, so the
# measure ends; its teardown is in shim.log.
measure "run -d --net -p, stop" '$md run -d --name cov --net covnet -p 8080:80 busybox sleep 600 && $md stop -t 1 cov'
echo "work: $work" >&2
measure "rm" '$md rm cov'
measure "run --rm --net, exec" '$md run -d --name cov2 --net covnet busybox sleep 600 && $md exec cov2 true && $md rm -f cov2'
measure "network rm" '$md network rm covnet'
measure "run --rm --net none" '$md run --rm --net none busybox true'
