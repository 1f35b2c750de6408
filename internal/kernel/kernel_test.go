package kernel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestCommandText(t *testing.T) {
	var v Vars
	v.Set("PID", "4123")
	v.Set("ID", "9b52f01cc3710000")
	cases := []struct {
		c    Command
		vars *Vars
		want string
	}{
		{Command{Argv: []string{"ip", "link", "add", "testnet", "type", "bridge"}}, nil, "ip link add testnet type bridge"},
		{Command{Argv: []string{"echo", "a b"}}, nil, "echo 'a b'"},
		{Command{In: Netns(4123), Argv: []string{"ip", "addr", "add", "10.0.41.2/24", "dev", "eth0"}}, &v,
			`nsenter -t "${PID}" -n ip addr add 10.0.41.2/24 dev eth0`},
		{Command{In: Netns(4123), Argv: []string{"ip", "route", "add", "default", "via", "10.4123.0.1"}}, &v,
			`nsenter -t "${PID}" -n ip route add default via 10.4123.0.1`},
		{Command{Argv: []string{"mount", "--bind", "/var/run/c/9b52f01cc3710000/hosts", "/x"}}, &v,
			`mount --bind "/var/run/c/${ID}/hosts" /x`},
		{Command{Shell: []string{"echo", "4123", ">", "/sys/fs/cgroup/pids/x/cgroup.procs"}}, &v,
			`echo "${PID}" > /sys/fs/cgroup/pids/x/cgroup.procs`},
		{Command{In: Mountns(4123), Shell: []string{"cd", "/l/9b52f01cc3710000/merged", "&&", "pivot_root", ".", ".", "&&", "umount", "-l", "."}}, &v,
			`nsenter -t "${PID}" -m sh -c "cd \"/l/${ID}/merged\" && pivot_root . . && umount -l ."`},
		{Command{In: Mountns(7), Shell: []string{"cd", "/m", "&&", "pivot_root", ".", "."}}, nil,
			`nsenter -t 7 -m sh -c "cd /m && pivot_root . ."`},
		{Command{Argv: []string{"echo", "$HOME 41234"}}, &v, `echo '$HOME 41234'`},
		{Command{Comment: "the kernel loads the seccomp filter"}, nil, "# the kernel loads the seccomp filter"},
	}
	for _, c := range cases {
		if got := c.c.Text(c.vars); got != c.want {
			t.Errorf("Text() = %s\n              want %s", got, c.want)
		}
	}
}

// thing is a test op making or removing one object.
type thing struct {
	obj     Object
	remove  bool
	ifNeed  bool
	applied *[]string
}

func (o thing) Why() string      { return "why " + o.obj.Name }
func (o thing) Command() Command { return Command{Argv: []string{"do", o.obj.Kind, o.obj.Name}} }
func (o thing) Apply(*Exec) error {
	*o.applied = append(*o.applied, o.obj.Name)
	return nil
}
func (o thing) Effects() []Effect {
	return []Effect{{Obj: o.obj, Remove: o.remove, IfNeeded: o.ifNeed}}
}

func TestPlanRefusesWhatCannotWork(t *testing.T) {
	chain := Object{Kind: "chain", Name: "nat MYDOCKER"}
	rule := Object{Kind: "rule", Name: "nat MYDOCKER -j RETURN"}
	link := Object{Kind: "link", Name: "br0"}
	var applied []string
	p := NewPlan(MapWorld{link: true}, nil)
	if err := p.Do(thing{obj: link, applied: &applied}); !errors.Is(err, ErrPlan) {
		t.Errorf("making what exists: %v, want ErrPlan", err)
	}
	if err := p.Do(thing{obj: Object{Kind: "link", Name: "nope"}, remove: true, applied: &applied}); !errors.Is(err, ErrPlan) {
		t.Errorf("removing what was never made: %v, want ErrPlan", err)
	}
	if err := p.Do(thing{obj: chain, applied: &applied}, thing{obj: rule, applied: &applied}); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(thing{obj: chain, remove: true, applied: &applied}); !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), "still holds 1 rule") {
		t.Errorf("deleting a chain with a rule: %v", err)
	}
	if err := p.Do(thing{obj: rule, remove: true, applied: &applied}, thing{obj: chain, remove: true, applied: &applied}); err != nil {
		t.Errorf("deleting an emptied chain: %v", err)
	}
	// A chain of the world with a rule of the world is refused too.
	w := MapWorld{chain: true, rule: true}
	if err := NewPlan(w, nil).Do(thing{obj: chain, remove: true, applied: &applied}); !errors.Is(err, ErrPlan) {
		t.Errorf("deleting the world's non-empty chain: %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("a plan applied %v", applied)
	}
	if len(p.Made()) != 0 || len(p.Removed()) != 0 {
		t.Errorf("after make and remove: made %v removed %v", p.Made(), p.Removed())
	}
}

func TestIdempotentOpsAreSkippedSilently(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	link := Object{Kind: "link", Name: "gone"}
	var applied []string
	p := NewPlan(nil, log)
	if err := p.Do(thing{obj: link, remove: true, ifNeed: true, applied: &applied}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 || len(p.Ops) != 0 {
		t.Errorf("removing what is gone narrated %q, planned %d ops", buf.String(), len(p.Ops))
	}
	if err := p.Do(thing{obj: link, ifNeed: true, applied: &applied}); err != nil || len(p.Ops) != 1 {
		t.Errorf("ensuring a missing link: %v, %d ops", err, len(p.Ops))
	}
}

func TestPlanFailAndRollbackModel(t *testing.T) {
	var applied []string
	a, b := Object{Kind: "link", Name: "a"}, Object{Kind: "link", Name: "b"}
	p := NewPlan(nil, nil)
	boom := errors.New("boom")
	p.Fail = func(op Op) error {
		if op.Command().Argv[2] == "b" {
			return boom
		}
		return nil
	}
	if err := p.Do(thing{obj: a, applied: &applied}, thing{obj: b, applied: &applied}); !errors.Is(err, boom) || !strings.Contains(err.Error(), "do link b") {
		t.Fatalf("err = %v", err)
	}
	if m := p.Made(); len(m) != 1 || m[0] != a {
		t.Errorf("made = %v, want only a", m)
	}
}

func TestPlanKeepsStateInMemory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.json")
	p := NewPlan(nil, nil)
	if err := p.Do(WriteState{Path: path, Value: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a plan wrote %s", path)
	}
	var got map[string]int
	if err := ReadState(p, path, &got); err != nil || got["a"] != 1 {
		t.Fatalf("ReadState = %v, %v", got, err)
	}
	if err := p.Do(RemoveState{Path: path}); err != nil {
		t.Fatal(err)
	}
	if err := ReadState(p, path, &got); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after RemoveState: %v", err)
	}
}

// A []byte record is kept as it is, in a plan and on disk.
func TestRawStateRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prog.bpf")
	want := []byte{0, 1, 2, '"', 0xff}
	for _, k := range []Kernel{NewPlan(nil, nil), &Real{}} {
		if err := k.Do(WriteState{Path: path, Value: want}); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := ReadState(k, path, &got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%T: ReadState = %q, %v; want %q", k, got, err, want)
		}
	}
	if data, err := os.ReadFile(path); err != nil || !bytes.Equal(data, want) {
		t.Fatalf("file = %q, %v; want %q", data, err, want)
	}
}

func TestNarratingNamesTheCallerAndSkips(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	dir := t.TempDir()
	n := NewNarrating(log)
	target := filepath.Join(dir, "a", "b")
	if err := n.Do(Mkdir{Path: target, Reason: "make the mount point"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`msg="// make the mount point"`, `msg="$ mkdir -p ` + target + `"`, `source="kernel/kernel_test.go:`} {
		if !strings.Contains(out, want) {
			t.Errorf("narration lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		t.Fatalf("not made: %v", err)
	}
	buf.Reset()
	if err := n.Do(Mkdir{Path: target, Reason: "again"}); err != nil || buf.Len() != 0 {
		t.Errorf("an existing directory: err %v, narrated %q", err, buf.String())
	}
}

// failing fails with err; prefix, if set, is its ErrorPrefix.
type failing struct {
	err    error
	prefix *string
}

func (failing) Why() string { return "fail" }
func (failing) Command() Command {
	return Command{Argv: []string{"curl", "-H", "a very long header", "http://x/"}}
}
func (f failing) Apply(*Exec) error        { return f.err }
func (f failingNamed) ErrorPrefix() string { return *f.prefix }

type failingNamed struct{ failing }

// An op's error names its command, or what it names itself instead.
func TestOpErrorPrefix(t *testing.T) {
	base := errors.New(`Get "http://x/": refused`)
	empty, short := "", "blob sha256:ab"
	for _, tc := range []struct {
		op   Op
		want string
	}{
		{failing{err: base}, `curl -H 'a very long header' http://x/: Get "http://x/": refused`},
		{failingNamed{failing{err: base, prefix: &empty}}, `Get "http://x/": refused`},
		{failingNamed{failing{err: base, prefix: &short}}, `blob sha256:ab: Get "http://x/": refused`},
	} {
		err := (&Real{}).Do(tc.op)
		if err == nil || err.Error() != tc.want || !errors.Is(err, base) {
			t.Errorf("%T: %v, want %q", tc.op, err, tc.want)
		}
	}
}
