#!/usr/bin/env bash
# The main job: build mydocker and show it at work, narrated. It runs in a
# network and mount namespace of its own with a temporary --root and
# --data-root, so it leaves nothing on the host.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" != 0 ]; then echo "demo: run as root (sudo make demo)" >&2; exit 1; fi
if [ -z "${MYDOCKER_DEMO_IN_NS:-}" ]; then
	export MYDOCKER_DEMO_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
export MYDOCKER_ROOT=$work/run MYDOCKER_DATA_ROOT=$work/lib
export PATH=$PWD:$PATH

step() { printf '\n### %s\n$ %s\n' "$1" "$2"; eval "$2"; }

step "A container: own pid 1, hostname, /proc, root filesystem" \
	"mydocker run --rm --hostname demo busybox sh -c 'echo pid=\$\$ host=\$(hostname); ps'"
step "A detached container with an env var and a volume" \
	"mydocker run -d --name web -e GREETING=hi -v $work/data:/data busybox sh -c 'echo \$GREETING > /data/x; echo started; sleep 1000'"
sleep 0.5
step "ps" "mydocker ps"
step "logs" "mydocker logs web"
step "the volume, from the host" "cat $work/data/x"
step "inspect (state)" "mydocker inspect web | grep -A8 '\"State\"'"
step "stop (SIGTERM, then SIGKILL after 1 s)" "mydocker --log-level warn stop -t 1 web"
step "ps -a" "mydocker ps -a"
step "rm" "mydocker rm web"
step "images" "mydocker images"
echo
echo "demo: done"
