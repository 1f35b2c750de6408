package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/testns"
)

// The narration contract, whole: `--log-format script` of `network create`
// and `run -d --net N -p ... -m ... --cpus ...`, then of `stop` (which
// tells what the container's shim releases), `rm` and `network rm`, run
// as it is (every line,
// nothing filtered out) by a root shell in fresh namespaces, makes the same
// state as mydocker made: links, addresses, routes, iptables rules,
// sysctls, the container's mounts (relative to its root), /dev, /etc
// files, hostname, pid 1, cgroup directories and limit files; and the
// published port answers. mydocker's container is removed before the
// replay (the script names the same id, layer and cgroups).

// hostDump is the host's side of the network.
const hostDump = `
echo '== links'; ip -o link show
echo '== addrs'; ip -o -4 addr show
echo '== routes'; ip route show
echo '== ports'; bridge -d link show
echo '== iptables'; iptables-save
`

// containerDump is the state of the container whose init is $PID, as the
// host sees it.
const containerDump = `
echo '== ctr links'; nsenter -t $PID -n ip -o link show
echo '== ctr addrs'; nsenter -t $PID -n ip -o -4 addr show
echo '== ctr routes'; nsenter -t $PID -n ip route show
echo '== mounts'; awk '{ sep = 0; for (i = 7; $i != "-"; i++) ; print $5, $(i+1), $(i+2), $6, $(i+3) }' /proc/$PID/mountinfo
echo '== dev'; ls -l /proc/$PID/root/dev | awk '{print $1, $3, $4, $5, $6, $NF}'
echo '== etc'; for f in hostname hosts resolv.conf; do echo "-- $f"; cat /proc/$PID/root/etc/$f; done
echo '== hostname'; nsenter -t $PID -u hostname
echo '== pid 1'; tr '\0' ' ' < /proc/$PID/cmdline; echo
echo '== cgroups'; for d in /sys/fs/cgroup/*/mydocker/$ID; do echo "$d $(cat $d/cgroup.procs | wc -l)"; done
echo '== limits'; cat /sys/fs/cgroup/memory/mydocker/$ID/memory.limit_in_bytes /sys/fs/cgroup/cpu/mydocker/$ID/cpu.cfs_quota_us /sys/fs/cgroup/cpu/mydocker/$ID/cpu.cfs_period_us
echo '== sysctls'; sysctl net.ipv4.ip_forward net.ipv4.conf.sn1.route_localnet
echo '== port'; timeout 3 busybox wget -qO- http://127.0.0.1:8080/etc/hostname
`

// goneDump is what must be gone once the container and its network are.
const goneDump = `
echo '== cgroups'; ls -d /sys/fs/cgroup/*/mydocker/$ID 2>/dev/null || true
echo '== layer'; ls -d $DATA/containers/$ID $ROOT/containers/$ID 2>/dev/null || true
echo '== sysctls'; sysctl net.ipv4.ip_forward
`

func TestScriptReplaysNetworkCreateAndRun(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.ok("run", "--rm", "--net", "none", "busybox", "true") // the image, built outside the script
	md := fmt.Sprintf("%s --root %s --data-root %s", binary, e.root, e.dataRoot)
	record := fmt.Sprintf(`set -e
ip link set lo up
M="%[1]s" ROOT=%[5]s DATA=%[7]s
$M --log-format script network create --subnet 10.66.0.0/24 sn1 2>%[2]s/script.sh
$M --log-format script run -d --name web --net sn1 -p 8080:80 -m 64m --cpus 0.5 busybox httpd -f -p 80 -h / >%[2]s/id 2>%[2]s/run.sh
ID=$(cat %[2]s/id)
PID=$($M inspect web | sed -n 's/.*"Pid": *\([0-9]*\).*/\1/p' | head -1)
i=0; until timeout 3 busybox wget -qO- http://127.0.0.1:8080/etc/hostname >/dev/null 2>&1 || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done
{ %[3]s %[4]s } > %[2]s/dumpA 2>&1
$M --log-format script stop -t 1 web >/dev/null 2>%[2]s/stop.sh
$M --log-format script rm web >/dev/null 2>%[2]s/rm.sh
$M --log-format script network rm sn1 >/dev/null 2>%[2]s/netrm.sh
{ %[3]s %[6]s } > %[2]s/dumpC 2>&1
`, md, dir, hostDump, containerDump, e.root, goneDump, e.dataRoot)
	if out, err := inFreshNamespaces(record); err != nil {
		t.Fatalf("record: %v\n%s", err, out)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dir, name)); return string(b) }
	if !strings.HasPrefix(read("script.sh"), "#!/bin/sh") || !strings.Contains(read("run.sh"), "mkfifo") {
		t.Fatalf("not a script:\n%s%s", read("script.sh"), read("run.sh"))
	}
	replay := fmt.Sprintf(`ip link set lo up
%[5]s
. %[1]s/script.sh
. %[1]s/run.sh
i=0; until timeout 3 busybox wget -qO- http://127.0.0.1:8080/etc/hostname >/dev/null 2>&1 || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done
{ %[2]s %[3]s } > %[1]s/dumpB 2>&1
for s in stop rm netrm; do . %[1]s/$s.sh; done
{ %[2]s %[4]s } > %[1]s/dumpD 2>&1
`, dir, hostDump, containerDump, goneDump, standInGone)
	if out, err := inFreshNamespaces(replay); err != nil {
		t.Fatalf("replay: %v\n%s\n--- script:\n%s%s", err, out, read("script.sh"), read("run.sh"))
	}
	scripts := func(names ...string) string {
		var b strings.Builder
		for _, n := range names {
			b.WriteString(read(n + ".sh"))
		}
		return b.String()
	}
	want, got := normalizeReplay(read("dumpA")), normalizeReplay(read("dumpB"))
	if want != got {
		t.Errorf("the replayed script's state differs after run:\n%s\n--- the script:\n%s", lineDiff(want, got), scripts("script", "run"))
	}
	want, got = normalizeReplay(read("dumpC")), normalizeReplay(read("dumpD"))
	if want != got {
		t.Errorf("the replayed script's state differs after stop, rm and network rm:\n%s\n--- the script:\n%s", lineDiff(want, got), scripts("stop", "rm", "netrm"))
	}
	for _, s := range []string{"kill -TERM", "kill -KILL", "ip link del", "iptables-restore -w --noflush", "-X MYDOCKER-P-", "rmdir", "rm -rf"} {
		if !strings.Contains(scripts("stop", "rm", "netrm"), s) {
			t.Errorf("the teardown script lacks %q", s)
		}
	}
	if c := normalizeReplay(read("dumpC")); strings.Contains(c, "sn1") || strings.Contains(c, "MYDOCKER") || strings.Contains(c, "mydocker/") {
		t.Errorf("mydocker left something behind:\n%s", c)
	}
	for _, s := range []string{"10.66.0.2/24", "DNAT", "overlay", "67108864", "== port\n" + read("id")[:12]} {
		if !strings.Contains(read("dumpA"), s) {
			t.Errorf("the recorded state lacks %q:\n%s", s, read("dumpA"))
		}
	}
}

// standInGone ends a replay whatever happened: its container ($PID, $ID)
// killed and its cgroups removed, so a failed replay leaves nothing.
const standInGone = `trap 'set +e; if [ -n "$PID" ]; then kill -KILL $PID 2>/dev/null; while [ -e /proc/$PID ] && ! grep -q "^State:.Z" /proc/$PID/status 2>/dev/null; do sleep 0.01; done; fi; ` +
	`if [ -n "$ID" ]; then for d in /sys/fs/cgroup/*/mydocker/$ID; do [ -d $d ] && rmdir $d; done; fi; true' EXIT`

// lineDiff lists the lines only one side has: "-" mydocker's, "+" the
// replay's.
func lineDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if w[l] > g[l] {
			out = append(out, "- "+l)
			w[l]--
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if g[l] > count(want)[l] {
			out = append(out, "+ "+l)
			g[l]--
		}
	}
	return strings.Join(out, "\n")
}

// inFreshNamespaces runs a shell script in a new network and mount
// namespace, for two minutes at most.
func inFreshNamespaces(script string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.WaitDelay = time.Second
	return cmd.CombinedOutput()
}

var dumpTimes = regexp.MustCompile(`\b[A-Z][a-z]{2} +\d+ +[\d:]+\b`)

// normalizeReplay is normalizeDump plus what differs between any two runs
// of a container (times in ls).
func normalizeReplay(s string) string {
	return testns.NormalizeDump(dumpTimes.ReplaceAllString(s, "<time>"))
}

// scriptStep is one mydocker command of a replay test: its script is what
// it logs with --log-format script (cmd's $M is mydocker); then, in the
// record only, after (which may set $PID and $ID); dump, if set, is the
// state compared after it.
type scriptStep struct{ name, cmd, after, dump string }

// replaySteps records steps with mydocker in fresh namespaces (prelude
// first, which sets $PID and $ID as the dumps need them; undo last, so
// that nothing of it is left for the replay), then replays their scripts
// whole in other fresh namespaces (replayPrelude first) and compares the
// state after each step that has a dump.
func replaySteps(t *testing.T, e *env, prelude string, steps []scriptStep, undo, replayPrelude, replayUndo string) {
	t.Helper()
	dir := t.TempDir()
	var rec, rep strings.Builder
	fmt.Fprintf(&rec, "set -e\nip link set lo up\nM=\"%s --root %s --data-root %s\"\n%s\n", binary, e.root, e.dataRoot, prelude)
	fmt.Fprintf(&rep, "ip link set lo up\n%s\n%s\n", standInGone, replayPrelude)
	for _, s := range steps {
		fmt.Fprintf(&rec, "%s 2>%s/%s.sh >/dev/null\n%s\n", strings.Replace(s.cmd, "$M ", "$M --log-format script ", 1), dir, s.name, s.after)
		fmt.Fprintf(&rep, ". %s/%s.sh\n", dir, s.name)
		if s.dump != "" {
			fmt.Fprintf(&rec, "{ %s } > %s/%s.A 2>&1\n", s.dump, dir, s.name)
			fmt.Fprintf(&rep, "{ %s } > %s/%s.B 2>&1\n", s.dump, dir, s.name)
		}
	}
	rec.WriteString(undo + "\n")
	rep.WriteString(replayUndo + "\n")
	if out, err := inFreshNamespaces(rec.String()); err != nil {
		t.Fatalf("record: %v\n%s\n%s", err, out, rec.String())
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dir, name)); return string(b) }
	if out, err := inFreshNamespaces(rep.String()); err != nil {
		var all strings.Builder
		for _, s := range steps {
			all.WriteString(read(s.name + ".sh"))
		}
		t.Fatalf("replay: %v\n%s\n--- the script:\n%s", err, out, all.String())
	}
	for _, s := range steps {
		if s.dump == "" {
			continue
		}
		want, got := normalizeReplay(read(s.name+".A")), normalizeReplay(read(s.name+".B"))
		if want != got {
			t.Errorf("after %s, the replayed script's state differs:\n%s\n--- its script:\n%s", s.name, lineDiff(want, got), read(s.name+".sh"))
		}
		if strings.TrimSpace(want) == "" {
			t.Errorf("after %s: nothing recorded", s.name)
		}
	}
}

const netDump = hostDump + `
echo '== ctr links'; nsenter -t $PID -n ip -o link show
echo '== ctr addrs'; nsenter -t $PID -n ip -o -4 addr show
echo '== ctr routes'; nsenter -t $PID -n ip route show
`

// The scripts of `network connect` and `network disconnect` replay onto a
// container made by a replayed `run`.
func TestScriptReplaysConnectAndDisconnect(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--rm", "--net", "none", "busybox", "true") // the image, built outside the script
	pidOf := `ID=$($M inspect web | sed -n 's/.*"Id": *"\([0-9a-f]*\)".*/\1/p' | head -1); PID=$($M inspect web | sed -n 's/.*"Pid": *\([0-9]*\).*/\1/p' | head -1)`
	replaySteps(t, e, "", []scriptStep{
		{name: "create1", cmd: "$M network create --subnet 10.71.0.0/24 cn1"},
		{name: "create2", cmd: "$M network create --subnet 10.72.0.0/24 cn2"},
		{name: "run", cmd: "$M run -d --name web --net cn1 -p 8081:80 busybox sleep 600", after: pidOf, dump: netDump},
		{name: "connect", cmd: "$M network connect cn2 web", dump: netDump},
		{name: "disconnect", cmd: "$M network disconnect cn1 web", dump: netDump},
	}, "$M --log-level warn rm -f web >/dev/null; $M --log-level warn network rm cn1 cn2 >/dev/null", "", "")
}

// The scripts of netsetgo and netsetgo -cleanup replay onto a process of
// the test's own (a sleep in a new network namespace), as netsetgo's users
// run it.
func TestScriptReplaysNetsetgo(t *testing.T) {
	e := newEnv(t)
	sleeper := `unshare --net sleep 600 & PID=$!
while [ "$(readlink /proc/$PID/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done`
	replaySteps(t, e, sleeper, []scriptStep{
		{name: "wire", cmd: "$M netsetgo -pid $PID -bridgeName nsg0 -bridgeAddress 10.73.0.1/24 -containerAddress 10.73.0.2/24", dump: netDump},
		{name: "cleanup", cmd: "$M netsetgo -cleanup -pid $PID -bridgeName nsg0", dump: netDump},
	}, "kill $PID", sleeper, "")
}
