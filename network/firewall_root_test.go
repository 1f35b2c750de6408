package network

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Root tests of the firewall: real iptables, in the test binary's own
// network namespace (testns.Main).

// saveDiff lists the lines of iptables-save that b has and a has not
// ("TABLE LINE"), sorted; counters left out.
func saveDiff(a, b string) []string {
	count := func(s string) map[string]int {
		m, table := map[string]int{}, ""
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "*") {
				table = l[1:]
			} else if l != "COMMIT" && l != "" {
				m[table+" "+l]++
			}
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for l, n := range cb {
		for i := ca[l]; i < n; i++ {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// What the first network adds to a host's rules, exactly, as iptables-save
// shows it.
var firstNetworkSave = []string{
	`filter -A FORWARD -j MYDOCKER-FORWARD`,
	`filter -A MYDOCKER-FORWARD -i web -m comment --comment "mydocker:web" -j ACCEPT`,
	`filter -A MYDOCKER-FORWARD -j MYDOCKER-ISOLATION-1`,
	`filter -A MYDOCKER-FORWARD -o web -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "mydocker:web" -j ACCEPT`,
	`filter -A MYDOCKER-ISOLATION-1 -i web ! -o web -m comment --comment "mydocker:web" -j MYDOCKER-ISOLATION-2`,
	`filter -A MYDOCKER-ISOLATION-2 -o web -m comment --comment "mydocker:web" -j DROP`,
	`filter :MYDOCKER-FORWARD -`,
	`filter :MYDOCKER-ISOLATION-1 -`,
	`filter :MYDOCKER-ISOLATION-2 -`,
	`nat -A MYDOCKER-POSTROUTING -s 10.20.0.0/24 ! -o web -m comment --comment "mydocker:web" -j MASQUERADE`,
	`nat -A MYDOCKER-POSTROUTING -s 127.0.0.0/8 -o web -m comment --comment "mydocker:web" -j MASQUERADE`,
	`nat -A OUTPUT -m addrtype --dst-type LOCAL -j MYDOCKER`,
	`nat -A POSTROUTING -j MYDOCKER-POSTROUTING`,
	`nat -A PREROUTING ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j MYDOCKER`, // (iptables-save puts -d first)
	`nat :MYDOCKER -`,
	`nat :MYDOCKER-POSTROUTING -`,
}

// A create adds exactly the network's rules and mydocker's chains (one
// iptables-restore), a second network only its own rules, and the removes
// leave the rules exactly as before, a host's own rules untouched and
// mydocker's jumps first in the kernel's chains.
func TestCreateRemoveLeavesExactRules(t *testing.T) {
	m, rec := testManager(t)
	run(t, "iptables", "-A", "FORWARD", "-i", "host0", "-j", "ACCEPT")
	run(t, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "host0", "-j", "MASQUERADE")
	t.Cleanup(func() {
		tryRun("iptables", "-D", "FORWARD", "-i", "host0", "-j", "ACCEPT")
		tryRun("iptables", "-t", "nat", "-D", "POSTROUTING", "-o", "host0", "-j", "MASQUERADE")
	})
	before := iptablesSave(t)
	mustCreate(t, m, "web", "10.20.0.0/24")
	withWeb := iptablesSave(t)
	if got := saveDiff(before, withWeb); strings.Join(got, "\n") != strings.Join(firstNetworkSave, "\n") {
		t.Errorf("create added:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(firstNetworkSave, "\n"))
	}
	if lost := saveDiff(withWeb, before); len(lost) > 0 {
		t.Errorf("create removed: %v", lost)
	}
	if i, j := strings.Index(withWeb, "-A FORWARD -j MYDOCKER-FORWARD"), strings.Index(withWeb, "-A FORWARD -i host0"); i < 0 || j < i {
		t.Errorf("mydocker's jump is not first in FORWARD:\n%s", withWeb)
	}
	restores := 0
	for _, c := range rec.all() {
		if strings.HasPrefix(c, "iptables") {
			restores++
			if !strings.HasPrefix(c, "iptables-restore -w --noflush <<'EOF'\n") {
				t.Errorf("not one restore: %s", c)
			}
		}
	}
	if restores != 1 {
		t.Errorf("%d iptables commands for a create, want 1 restore", restores)
	}
	mustCreate(t, m, "db", "10.21.0.0/24")
	if got := saveDiff(withWeb, iptablesSave(t)); len(got) != 6 || strings.Contains(strings.Join(got, "\n"), " :") {
		t.Errorf("a second network added:\n%s", strings.Join(got, "\n"))
	}
	if err := m.Remove("web", "db"); err != nil {
		t.Fatal(err)
	}
	sameRules(t, before, "the removes")
}

// sameRules checks that the rules are as before, after what.
func sameRules(t *testing.T, before, what string) {
	t.Helper()
	if after := iptablesSave(t); after != before {
		t.Errorf("rules after %s:\n%s\nbefore:\n%s", what, after, before)
	}
}

// A restore the kernel refuses part way: the tables before the failing one
// are committed (and narrated, only they), the failing one is not; the
// firewall reads the kernel and tries what is left, which fails again
// here; the rollback (a remove that reads the kernel) leaves the rules as
// before.
func TestRestoreFailureRollsBack(t *testing.T) {
	m, rec := testManager(t)
	before := iptablesSave(t)
	f := Firewall{k: m.k, root: filepath.Dir(m.dir)}
	bad := newRule("filter", chainForward, "a rule the kernel refuses", "-m", "nosuchmatch", "-j", "ACCEPT")
	err := f.apply(change{why: "a network with a bad rule", setupBase: true, add: append(NetworkRules("web", "10.20.0.0/24"), bad)}, true)
	if !errors.Is(err, kernel.ErrRestore) || !strings.Contains(err.Error(), "nosuchmatch") {
		t.Fatalf("err = %v", err)
	}
	narrated := strings.Join(rec.all(), "\n")
	if strings.Count(narrated, "iptables-restore") != 1 || !strings.Contains(narrated, "*nat") || strings.Contains(narrated, "*filter") {
		t.Errorf("narrated:\n%s\nwant the nat table alone, committed before the failure", narrated)
	}
	mid := iptablesSave(t)
	if !strings.Contains(mid, "-A MYDOCKER-POSTROUTING -s 10.20.0.0/24") || strings.Contains(mid, "MYDOCKER-FORWARD") {
		t.Errorf("after the failure:\n%s\nwant the nat table done, the filter table untouched", mid)
	}
	if err := f.removeNetwork("web", "web", "10.20.0.0/24", false); err != nil {
		t.Fatal(err)
	}
	sameRules(t, before, "the rollback")
}

// Rules deleted by hand, or left by a lost record: the next command reads
// the kernel where its restore fails, and does what is left.
func TestRulesNotAsRecorded(t *testing.T) {
	m, _ := testManager(t)
	before := iptablesSave(t)
	mustCreate(t, m, "web", "10.20.0.0/24")
	run(t, "iptables", "-D", "MYDOCKER-FORWARD", "-i", "web", "-m", "comment", "--comment", "mydocker:web", "-j", "ACCEPT")
	if err := m.Remove("web"); err != nil {
		t.Fatal(err)
	}
	sameRules(t, before, "a remove of a network missing a rule")
	// Chains left behind (a lost record): a create makes what is missing.
	run(t, "iptables", "-N", "MYDOCKER-FORWARD")
	run(t, "iptables", "-t", "nat", "-N", "MYDOCKER")
	mustCreate(t, m, "web", "10.20.0.0/24")
	if err := m.Remove("web"); err != nil {
		t.Fatal(err)
	}
	sameRules(t, before, "create and remove over stale chains")
}
