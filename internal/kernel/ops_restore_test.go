package kernel

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func line(verb, table, chain, why string, args ...string) RestoreLine {
	return RestoreLine{Verb: verb, Rule: Rule{Table: table, Chain: chain, Args: args}, Why: why}
}

// two tables, lines interleaved: the input groups them by table, in the
// order of each table's first line, and keeps each table's own order.
var sample = IptablesRestore{Reason: "sample", Lines: []RestoreLine{
	line(VerbNewChain, "nat", "C1", "a chain"),
	line(VerbInsert, "filter", "FORWARD", "first", "-j", "ACCEPT"),
	line(VerbAppend, "nat", "C1", "", "-s", "10.0.0.0/24", "!", "-o", "br0", "-m", "comment", "--comment", "two words", "-j", "MASQUERADE"),
	line(VerbDelete, "filter", "FORWARD", "", "-i", "br0", "-j", "ACCEPT"),
}}

const sampleInput = `*nat
# a chain
-N C1
-A C1 -s 10.0.0.0/24 ! -o br0 -m comment --comment "two words" -j MASQUERADE
COMMIT
*filter
# first
-I FORWARD 1 -j ACCEPT
-D FORWARD -i br0 -j ACCEPT
COMMIT
`

func TestRestoreInput(t *testing.T) {
	if got := sample.Input(); got != sampleInput {
		t.Errorf("input:\n%s\nwant:\n%s", got, sampleInput)
	}
	want := "iptables-restore -w --noflush <<'EOF'\n" + sampleInput + "EOF"
	if got := sample.Command().Text(nil); got != want {
		t.Errorf("command:\n%s\nwant:\n%s", got, want)
	}
}

// A failure names its line, and the tables committed before it.
func TestRestoreFailure(t *testing.T) {
	e := sample.failure("iptables-restore: line 8 failed\n")
	if e.Line != 8 || e.Text != "-I FORWARD 1 -j ACCEPT" || strings.Join(e.Committed, ",") != "nat" {
		t.Fatalf("failure: %+v", e)
	}
	if !errors.Is(e, ErrRestore) {
		t.Error("not ErrRestore")
	}
	if done := sample.Done(e); done == nil || done.(IptablesRestore).Input() != "*nat\n# a chain\n-N C1\n"+
		"-A C1 -s 10.0.0.0/24 ! -o br0 -m comment --comment \"two words\" -j MASQUERADE\nCOMMIT\n" {
		t.Errorf("done: %+v", done)
	}
	// A line that does not parse: its own message, the same tables.
	e = sample.failure("iptables-restore v1.8.9 (legacy): Couldn't load match `nosuch':No such file or directory\n\nError occurred at line: 9\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n")
	if e.Line != 9 || strings.Join(e.Committed, ",") != "nat" || e.Error() != "iptables-restore: line 9 (-D FORWARD -i br0 -j ACCEPT): iptables-restore v1.8.9 (legacy): Couldn't load match `nosuch':No such file or directory" {
		t.Errorf("failure: %+v\n%v", e, e)
	}
	if e := sample.failure("iptables-restore: line 2 failed"); len(e.Committed) != 0 || sample.Done(e) != nil {
		t.Errorf("a failure in the first table committed %v", e.Committed)
	}
	if e := sample.failure("Another app is currently holding the xtables lock."); e.Line != 0 || sample.Done(e) != nil {
		t.Errorf("a failure of no line: %+v", e)
	}
}

// A plan applies a restore a table at a time: a refused line leaves its
// table as it was, keeps the tables before it, and narrates only those,
// as the narration of a real run does.
func TestPlanRestoreIsAtomicPerTable(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(ScriptFormatter{})
	p := NewPlan(MapWorld{}, log)
	// FORWARD has no rule "-i br0 -j ACCEPT" to delete: filter is refused.
	err := p.Do(sample)
	if !errors.Is(err, ErrRestore) {
		t.Fatalf("err = %v", err)
	}
	if has, _ := p.Exists(ChainObj("nat", "C1")); !has {
		t.Error("the nat table, committed before the failure, is not in the plan")
	}
	if has, _ := p.Exists(Rule{Table: "filter", Chain: "FORWARD", Args: []string{"-j", "ACCEPT"}}.Object()); has {
		t.Error("the failed filter table changed the plan")
	}
	out := buf.String()
	if !strings.Contains(out, "-N C1") || strings.Contains(out, "*filter") {
		t.Errorf("narrated:\n%s", out)
	}
	if len(p.Ops) != 1 {
		t.Errorf("planned %d ops", len(p.Ops))
	}
	// Deleting a chain that holds rules, or making one that exists, is
	// refused; a flush empties it first.
	if err := p.Do(IptablesRestore{Lines: []RestoreLine{line(VerbDeleteChain, "nat", "C1", "")}}); !errors.Is(err, ErrRestore) {
		t.Errorf("-X of a chain with rules: %v", err)
	}
	if err := p.Do(IptablesRestore{Lines: []RestoreLine{line(VerbNewChain, "nat", "C1", "")}}); !errors.Is(err, ErrRestore) {
		t.Errorf("-N of a chain that exists: %v", err)
	}
	if err := p.Do(IptablesRestore{Lines: []RestoreLine{line(VerbFlushChain, "nat", "C1", ""), line(VerbDeleteChain, "nat", "C1", "")}}); err != nil {
		t.Errorf("-F then -X: %v", err)
	}
	if made := p.Made(); len(made) != 0 {
		t.Errorf("left: %v", made)
	}
	if err := p.Do(IptablesRestore{Lines: []RestoreLine{line(VerbAppend, "nat", "POSTROUTING", "", "-j", "C9")}}); !errors.Is(err, ErrRestore) {
		t.Errorf("a jump to a chain that does not exist: %v", err)
	}
}

// BenchmarkRestoreInput is the rendering of a network's whole change.
func BenchmarkRestoreInput(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = sample.Command().Text(nil)
	}
}

// Together, on a plan, does every op in turn whatever the others did, and
// returns their errors joined.
func TestTogetherDoesEveryOp(t *testing.T) {
	p := NewPlan(MapWorld{}, nil)
	bad := IptablesRestore{Lines: []RestoreLine{line(VerbDelete, "nat", "POSTROUTING", "", "-j", "ACCEPT")}}
	err := Together(p, bad, Mkdir{Path: "/x", Reason: "a directory"})
	if !errors.Is(err, ErrRestore) {
		t.Fatalf("err = %v", err)
	}
	if len(p.Ops) != 1 || p.Ops[0].Command().Text(nil) != "mkdir -p /x" {
		t.Errorf("planned %v", p.Commands())
	}
}
