package network

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/testns"
)

// The narration contract: the "$" lines of `network create` and of a
// connect with published ports, pasted into a root shell in a fresh network
// namespace, build the same links, addresses, routes, sysctls and iptables
// rules as mydocker did. Both sides run in fresh namespaces of their own
// (`unshare --net --mount`), so neither sees the other's state.

// dumpScript prints the state to compare; $PID is the "container".
const dumpScript = `
echo '== host links'; ip -o link show
echo '== host addrs'; ip -o -4 addr show
echo '== host routes'; ip route show
echo '== bridge ports'; bridge -d link show
echo '== sysctl'; cat /proc/sys/net/ipv4/ip_forward; for f in /proc/sys/net/ipv4/conf/*/route_localnet; do echo "$f $(cat $f)"; done
echo '== ctr links'; nsenter -t $PID -n ip -o link show
echo '== ctr addrs'; nsenter -t $PID -n ip -o -4 addr show
echo '== ctr routes'; nsenter -t $PID -n ip route show
echo '== iptables'; iptables-save
`

// TestReplayRecordHelper is the recording side, run by TestNarrationReplay
// in a fresh namespace; it is skipped otherwise.
func TestReplayRecordHelper(t *testing.T) {
	dir := os.Getenv("REPLAY_DIR")
	if dir == "" {
		t.Skip("helper of TestNarrationReplay")
	}
	m, rec := testManager(t)
	pid := sleeper(t)
	if _, err := m.Create(CreateOptions{Name: "testnet", Subnet: "192.168.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	pm, _ := ParsePortMappings([]string{"8080:80", "127.0.0.1:8081:80/tcp", "5353:53/udp"})
	if _, err := m.Connect(Attachment{Network: "testnet", Container: "4f1c2e3d5a6b7c8d", Pid: pid, Ports: pm}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", dumpScript)
	cmd.Env = append(os.Environ(), "PID="+strconv.Itoa(pid))
	dump, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dump: %v\n%s", err, dump)
	}
	os.WriteFile(filepath.Join(dir, "cmds"), []byte(strings.Join(rec.all(), "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(pid)), 0o644)
	os.WriteFile(filepath.Join(dir, "dump"), dump, 0o644)
}

func TestNarrationReplay(t *testing.T) {
	_, _ = testManager(t) // root check
	dir := t.TempDir()
	rec := exec.Command("unshare", "--net", "--mount", "--propagation", "private",
		os.Args[0], "-test.run=^TestReplayRecordHelper$", "-test.v")
	rec.Env = append(os.Environ(), "REPLAY_DIR="+dir)
	if out, err := rec.CombinedOutput(); err != nil {
		t.Fatalf("record: %v\n%s", err, out)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dir, name)); return string(b) }
	cmds, pid, recorded := read("cmds"), read("pid"), read("dump")
	if !strings.Contains(cmds, "ip link add testnet type bridge") || !strings.Contains(cmds, "nsenter -t "+pid+" -n ip route add default via 192.168.0.1") {
		t.Fatalf("narration lacks expected commands:\n%s", cmds)
	}
	pidRE := regexp.MustCompile(`\b` + pid + `\b`)
	script := pidRE.ReplaceAllString(cmds, "$$PID")
	full := fmt.Sprintf(`set -e
ip link set lo up
unshare --net sleep 600 & PID=$!
while [ "$(readlink /proc/$PID/ns/net)" = "$(readlink /proc/self/ns/net)" ] || [ "$(readlink /proc/$PID/exe)" != "$(command -v sleep)" ]; do sleep 0.01; done
(
%s
) >/dev/null
set +e
%s
kill $PID
`, script, dumpScript)
	os.WriteFile(filepath.Join(dir, "replay.sh"), []byte(full), 0o644)
	out, err := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", filepath.Join(dir, "replay.sh")).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s\nscript:\n%s", err, out, full)
	}
	got, want := testns.NormalizeDump(string(out)), testns.NormalizeDump(recorded)
	if got != want {
		t.Errorf("replayed state differs.\n--- mydocker:\n%s\n--- replay:\n%s\n--- commands:\n%s", want, got, cmds)
	}
	for _, must := range []string{"hairpin on", "DNAT --to-destination 192.168.0.2:80", "inet 192.168.0.2/24", "default via 192.168.0.1 dev eth0"} {
		if !strings.Contains(want, must) {
			t.Errorf("recorded state lacks %q:\n%s", must, want)
		}
	}
}
