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

step "A bridge network: a Linux bridge, its gateway address, a MASQUERADE rule" \
	"mydocker network create --driver bridge --subnet 192.168.0.0/24 testnet"
step "network list" "mydocker network list"
step "A web server on it, port 8080 of the host published to its port 80" \
	"mydocker run -d --name web --net testnet -p 8080:80 busybox sh -c 'echo hello from web > /index.html; httpd -f -p 80 -h /'"
step "Another container reaches it by name (via /etc/hosts)" \
	"mydocker --log-level warn run --rm --net testnet busybox wget -qO- http://web/index.html"
step "The host reaches it through the published port (DNAT)" "wget -qO- http://127.0.0.1:8080/index.html || busybox wget -qO- http://127.0.0.1:8080/index.html"
step "exec: a command inside the running container" "mydocker exec web sh -c 'hostname; ip -br addr show eth0 2>/dev/null || ifconfig eth0'"
step "The kernel state: links, and mydocker's own iptables chains" "ip -br link; iptables -t nat -S | grep -i mydocker"
step "network inspect" "mydocker network inspect testnet"
step "Tear it down: stop, rm, network remove" \
	"mydocker stop -t 1 web && mydocker rm web && mydocker network remove testnet"
step "What is left: testnet and its rules are gone; the default network (mydocker0 and its rules) stays, as docker0 does" "ip -br link; iptables -t nat -S | grep -i mydocker || true"
echo
echo "demo: done"
