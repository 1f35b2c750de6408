package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The narration contract, end to end: the "$" lines that `network create`,
// `run -d --net testnet -p ...`, and then `stop` (its shim's log), `rm` and
// `network remove` log,
// replayed by a root shell in a fresh network namespace (a sleeping process
// standing for the container), give the same links, addresses, routes and
// iptables rules at both points. Both sides run in fresh namespaces.

const hostDump = `
echo '== links'; ip -o link show
echo '== addrs'; ip -o -4 addr show
echo '== routes'; ip route show
echo '== ports'; bridge -d link show
echo '== iptables'; iptables-save
`

const ctrDump = `
echo '== ctr links'; nsenter -t $PID -n ip -o link show
echo '== ctr addrs'; nsenter -t $PID -n ip -o -4 addr show
echo '== ctr routes'; nsenter -t $PID -n ip route show
`

var (
	dollarRE = regexp.MustCompile(`^INFO \$ (.*?)\s+pid=\d+ source=`)
	netCmdRE = regexp.MustCompile(`^(ip |iptables |sysctl |nsenter -t \d+ -n ip )`)
	normREs  = []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\d+: `), regexp.MustCompile(`@if\d+|link-netnsid \d+|\[\d+:\d+\]`),
		regexp.MustCompile(` state (UP|DOWN|UNKNOWN|LOWERLAYERDOWN) `),
	}
	anyMAC = regexp.MustCompile(`([0-9a-f]{2}:){5}[0-9a-f]{2}`)
)

// netCommands extracts the network "$" lines from a log.
func netCommands(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := dollarRE.FindStringSubmatch(l); m != nil && netCmdRE.MatchString(m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func normalizeDump(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		for _, re := range normREs {
			l = re.ReplaceAllString(l, " ")
		}
		l = anyMAC.ReplaceAllStringFunc(l, func(m string) string {
			if strings.HasPrefix(m, "02:42:") || m == "ff:ff:ff:ff:ff:ff" || m == "00:00:00:00:00:00" {
				return m
			}
			return "<mac>"
		})
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}

func TestNarrationReplayEndToEnd(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	// Record: mydocker in a fresh network namespace of its own.
	record := fmt.Sprintf(`set -e
ip link set lo up
M="%s --root %s --data-root %s --log-level info"
$M network create --driver bridge --subnet 192.168.0.0/24 testnet 2>%s/log1
$M run -d --name web --net testnet -p 8080:80 -p 127.0.0.1:8081:80 busybox sleep 600 >/dev/null 2>>%s/log1
PID=$($M inspect web 2>/dev/null | grep '"Pid"' | tr -dc 0-9)
echo $PID > %s/pid
{ %s %s } > %s/dumpA 2>&1
# A detached container's teardown is narrated by its shim, into shim.log.
$M stop -t 0 web >/dev/null 2>%s/log2
ID=$($M inspect web 2>/dev/null | grep '"Id"' | cut -d'"' -f4)
while $M network inspect testnet 2>/dev/null | grep -q '"ID"'; do sleep 0.05; done
cat %s/containers/$ID/shim.log >> %s/log2
$M rm web >/dev/null 2>>%s/log2
$M network remove testnet 2>>%s/log2
{ %s } > %s/dumpB 2>&1
`, binary, e.root, e.dataRoot, dir, dir, dir, hostDump, ctrDump, dir, dir, e.root, dir, dir, dir, hostDump, dir)
	if out, err := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", record).CombinedOutput(); err != nil {
		t.Fatalf("record: %v\n%s", err, out)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dir, name)); return string(b) }
	pid := strings.TrimSpace(read("pid"))
	setup, teardown := netCommands(read("log1")), netCommands(read("log2"))
	if len(setup) < 10 || len(teardown) < 5 || pid == "" {
		t.Fatalf("too few commands narrated (pid %q):\n%s\n--\n%s", pid, read("log1"), read("log2"))
	}
	pidRE := regexp.MustCompile(`\b` + pid + `\b`)
	script := func(cmds []string) string { return pidRE.ReplaceAllString(strings.Join(cmds, "\n"), "$$PID") }
	replay := fmt.Sprintf(`set -e
ip link set lo up
unshare --net sleep 600 & PID=$!
while [ "$(readlink /proc/$PID/ns/net)" = "$(readlink /proc/self/ns/net)" ] || [ "$(readlink /proc/$PID/exe)" != "$(command -v sleep)" ]; do sleep 0.01; done
( %s
) >/dev/null
{ %s %s } > %s/replayA 2>&1
# The container stops: its namespace, and the veth pair with it, go.
kill $PID; wait $PID || true
i=0; while ip -o link | grep -q veth && [ $i -lt 200 ]; do sleep 0.01; i=$((i+1)); done
( %s
) >/dev/null
{ %s } > %s/replayB 2>&1
`, script(setup), hostDump, ctrDump, dir, script(teardown), hostDump, dir)
	os.WriteFile(filepath.Join(dir, "replay.sh"), []byte(replay), 0o644)
	if out, err := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", filepath.Join(dir, "replay.sh")).CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s\n%s", err, out, replay)
	}
	for _, pair := range [][2]string{{"dumpA", "replayA"}, {"dumpB", "replayB"}} {
		want, got := normalizeDump(read(pair[0])), normalizeDump(read(pair[1]))
		if want != got {
			t.Errorf("%s differs from %s.\n--- mydocker:\n%s\n--- replay:\n%s\n--- script:\n%s", pair[1], pair[0], want, got, replay)
		}
	}
	if a := read("dumpA"); !strings.Contains(a, "DNAT") || !strings.Contains(a, "192.168.0.2/24") {
		t.Errorf("recorded state lacks the endpoint:\n%s", a)
	}
}
