package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/walkthrough"
)

// The dry run of each network step narrates the same "$" commands as the
// real one for the same input (ids, pids and veth names aside), and changes
// nothing: no container, no link, no rule, no address taken from the IPAM.
func TestDryRunNarratesWhatTheRealRunDoes(t *testing.T) {
	e := newEnv(t)
	e.must("run", "--rm", "--net", "none", "busybox", "true") // the image, made once

	// step runs args with --dry-run inserted at position at, then for real.
	step := func(at int, args ...string) {
		t.Helper()
		before := stateOf(t, e)
		dry := e.dollarLines(append(append(append([]string{}, args[:at]...), "--dry-run"), args[at:]...)...)
		if after := stateOf(t, e); after != before {
			t.Fatalf("%s --dry-run changed something:\nbefore:\n%s\nafter:\n%s", strings.Join(args, " "), before, after)
		}
		real := e.dollarLines(args...)
		if len(dry) == 0 || strings.Join(dry, "\n") != strings.Join(real, "\n") {
			t.Fatalf("%s: the dry run and the real run differ:\n%s", strings.Join(args, " "), diffLines(strings.Join(dry, "\n"), strings.Join(real, "\n")))
		}
	}
	step(2, "network", "create", "--subnet", "10.77.0.0/24", "drynet")
	step(1, "run", "-d", "--name", "c1", "--net", "drynet", "-p", "18080:80", "busybox", "sleep", "100")
	e.must("network", "create", "--subnet", "10.78.0.0/24", "drynet2")
	step(2, "network", "connect", "drynet2", "c1")
	step(2, "network", "disconnect", "drynet2", "c1")
	step(2, "network", "disconnect", "drynet", "c1")
	e.must("stop", "-t", "1", "c1")
	e.must("rm", "c1")
	step(2, "network", "remove", "drynet2")
	step(2, "network", "remove", "drynet")
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

var (
	dryFullID = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	dryShort  = regexp.MustCompile(`\b[0-9a-f]{12}\b`)
	dryVeth   = regexp.MustCompile(`\bveth[0-9a-f]{11}\b`)
	dryPid    = regexp.MustCompile(`(nsenter -t |netns |pid |/proc/|echo |kill -[A-Z]+ )(\$\{PID\}|(?:\$PID|\d+)\b)`)
)

// dollarLines runs mydocker and returns the "$" commands it narrated,
// with ids, veth names and pids replaced, and without the steps on the
// cgroup parent that all containers share.
func (e *env) dollarLines(args ...string) []string {
	e.t.Helper()
	r := e.run(append([]string{"--log-format", "json"}, args...)...)
	if r.code != 0 {
		e.t.Fatalf("mydocker %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	var out []string
	for _, l := range strings.Split(r.stderr, "\n") {
		var entry struct{ Msg string }
		if json.Unmarshal([]byte(l), &entry) != nil || !strings.HasPrefix(entry.Msg, "$ ") {
			continue
		}
		cmd := entry.Msg[2:]
		if walkthrough.SharedCgroupStep(cmd) {
			continue
		}
		// A plan's text double-quotes an argument that holds a variable
		// ("${PID}"): compare without the quotes.
		cmd = strings.ReplaceAll(cmd, `"`, "")
		cmd = strings.ReplaceAll(cmd, `\t`, " ") // printf's tabs, before an id in /etc/hosts
		cmd = dryFullID.ReplaceAllString(cmd, "ID")
		cmd = dryVeth.ReplaceAllString(cmd, "VETH")
		cmd = dryShort.ReplaceAllString(cmd, "SHORTID")
		cmd = dryPid.ReplaceAllString(cmd, "${1}PID")
		out = append(out, cmd)
	}
	return out
}

// stateOf is what a dry run must not change: links, rules, mydocker's
// files (networks, with their addresses, and containers).
func stateOf(t *testing.T, e *env) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(hostState(t))
	for _, dir := range []string{filepath.Join(e.root, "network", "network"), filepath.Join(e.root, "containers")} {
		ents, _ := os.ReadDir(dir)
		for _, en := range ents {
			data, _ := os.ReadFile(filepath.Join(dir, en.Name()))
			b.WriteString("\n" + en.Name() + ": " + string(data))
		}
	}
	return b.String()
}
