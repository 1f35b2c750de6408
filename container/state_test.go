package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/statefile"
)

func newTestStore(t *testing.T) Store {
	return Store{Paths: Paths{Root: t.TempDir(), DataRoot: t.TempDir()}}
}

func add(t *testing.T, s Store, id, name string) *Config {
	t.Helper()
	c := &Config{ID: id, Name: name, Cmd: []string{"sh"}, Status: StatusCreated, Created: time.Now()}
	if err := s.Create(c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStoreNamesAndLookup(t *testing.T) {
	s := newTestStore(t)
	a := add(t, s, strings.Repeat("a", 63)+"1", "web")
	add(t, s, strings.Repeat("a", 63)+"2", "")
	if err := s.Create(&Config{ID: strings.Repeat("b", 64), Name: "web"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}
	for _, ref := range []string{"web", a.ID, a.ID[:63] + "1"} {
		if c, err := s.Get(ref); err != nil || c.ID != a.ID {
			t.Errorf("Get(%q) = %v, %v", ref, c, err)
		}
	}
	if _, err := s.Get("aaaa"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := s.Get("nosuch"); !errors.Is(err, ErrNotExist) {
		t.Errorf("unknown: %v", err)
	}
	list, _ := s.List()
	if len(list) != 2 || list[1].Name == "" {
		t.Fatalf("List = %v (an unnamed container gets a generated name)", list)
	}
}

func TestStoreUpdateAndCorruptFile(t *testing.T) {
	s := newTestStore(t)
	c := add(t, s, strings.Repeat("c", 64), "x")
	if _, err := s.Update(c.ID, func(c *Config) error { c.Status = StatusExited; c.ExitCode = 3; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get("x")
	if got.Status != StatusExited || got.ExitCode != 3 {
		t.Fatalf("after Update: %+v", got)
	}
	os.WriteFile(s.Paths.configPath(c.ID), []byte("{broken"), 0o644)
	if _, err := s.Get(c.ID); err == nil || !strings.Contains(err.Error(), s.Paths.configPath(c.ID)) {
		t.Fatalf("a corrupt state file must be an error naming it, got %v", err)
	}
	if err := s.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("after Delete: %v %v", list, err)
	}
}

// The seccomp program lives beside the record (seccomp.bpf), never in
// config.json; a record of an older mydocker, with its program inline,
// keeps it across an update.
func TestStoreKeepsProgramBeside(t *testing.T) {
	s := newTestStore(t)
	prog := []byte("01234567abcdefgh")
	c := &Config{ID: strings.Repeat("d", 64), Name: "p", Cmd: []string{"sh"}, Status: StatusCreated, Created: time.Now(),
		Security: &security.Config{Seccomp: &security.Seccomp{Profile: "default", Program: prog}}}
	if err := s.Create(c); err != nil {
		t.Fatal(err)
	}
	if c.Security.Seccomp.Program == nil {
		t.Fatal("Create took the program from the caller's config")
	}
	check := func(when string) {
		t.Helper()
		data, _ := os.ReadFile(s.Paths.configPath(c.ID))
		if strings.Contains(string(data), `"program"`) {
			t.Errorf("%s: config.json holds the program:\n%s", when, data)
		}
		got, err := s.Get(c.ID)
		if err != nil || got.Security.Seccomp.Program != nil {
			t.Fatalf("%s: Get = %v, %v (the program is read only on demand)", when, got, err)
		}
		if err := s.LoadProgram(got); err != nil || string(got.Security.Seccomp.Program) != string(prog) {
			t.Fatalf("%s: LoadProgram = %q, %v", when, got.Security.Seccomp.Program, err)
		}
	}
	check("created")
	// An older record: the program inline, no seccomp.bpf.
	os.Remove(s.programPath(c.ID))
	if err := statefile.WriteJSON(s.Paths.configPath(c.ID), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(c.ID, func(c *Config) error { c.Hostname = "h"; return nil }); err != nil {
		t.Fatal(err)
	}
	check("updated from an old record")
	os.WriteFile(s.programPath(c.ID), []byte("short"), 0o644)
	got, _ := s.Get(c.ID)
	if err := s.LoadProgram(got); !errors.Is(err, statefile.ErrCorrupt) {
		t.Fatalf("a truncated program: %v", err)
	}
}

// A broken record is one clear error naming its file, and a dead entry in
// the list: the other containers are unaffected, and a new one can be made.
func TestStoreBrokenRecords(t *testing.T) {
	id := func(i int) string { return fmt.Sprintf("d%02d", i) + strings.Repeat("0", 61) }
	good := func(i int) string {
		return fmt.Sprintf(`{"ID":%q,"Name":"c%d","Cmd":["sh"],"Status":"exited"}`, id(i), i)
	}
	cases := []struct{ content, reason string }{
		{"null", "null"},
		{"{}", "no ID"},
		{`"garbage"`, "not a container record"},
		{"garbage", "not valid JSON"},
		{`{"ID":"` + strings.Repeat("e", 64) + `","Name":"x","Cmd":["sh"],"Status":"exited"}`, "is not its directory's name"},
		{strings.Replace(good(5), `"exited"`, `"zombie"`, 1), `unknown Status "zombie"`},
		{strings.Replace(good(6), `"c6"`, `"bad/name"`, 1), `invalid Name "bad/name"`},
		{strings.Replace(good(7), `"Cmd":["sh"],`, ``, 1), "no Cmd"},
		{strings.Replace(good(8), `"Status"`, `"Pid":-4,"Status"`, 1), "negative pid"},
		{strings.Replace(good(9), `"exited"`, `"running"`, 1), "without a Pid"},
		{"", "not valid JSON"},
	}
	s := newTestStore(t)
	healthy := add(t, s, strings.Repeat("a", 64), "healthy")
	for i, tc := range cases {
		dir := s.Paths.StateDir(id(i))
		os.MkdirAll(dir, 0o700)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory with files but no record (its config.json deleted).
	os.MkdirAll(s.Paths.StateDir(id(99)), 0o700)
	os.WriteFile(filepath.Join(s.Paths.StateDir(id(99)), "hosts"), nil, 0o644)
	cases = append(cases, struct{ content, reason string }{"", reasonMissing})
	list, err := s.List()
	if err != nil {
		t.Fatalf("List fails for all because of some: %v", err)
	}
	if len(list) != len(cases)+1 {
		t.Fatalf("List has %d entries, want %d", len(list), len(cases)+1)
	}
	for i, tc := range cases {
		n := i
		if i == len(cases)-1 {
			n = 99
		}
		_, err := s.Get(id(n))
		var b *BrokenError
		if !errors.As(err, &b) || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), s.Paths.configPath(id(n))) {
			t.Errorf("%q: Get = %v, want an error naming %s and %q", tc.content, err, s.Paths.configPath(id(n)), tc.reason)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error on more than one line: %q", tc.content, err)
		}
		c, err := s.Lookup(id(n)[:12])
		if err != nil || c.State() != StatusDead || c.IsRunning() || !strings.HasPrefix(c.StatusText(time.Now()), "Dead (config.json: ") {
			t.Errorf("%q: Lookup = %+v, %v; want a dead entry", tc.content, c, err)
		}
	}
	if c, err := s.Get("healthy"); err != nil || c.ID != healthy.ID {
		t.Errorf("the healthy container: %v, %v", c, err)
	}
	add(t, s, strings.Repeat("b", 64), "another")
}

// A state directory with no record and nothing but temporary files is the
// remains of a killed Create or Delete: listing removes it.
func TestStoreSweepsEmptyStateDirs(t *testing.T) {
	s := newTestStore(t)
	add(t, s, strings.Repeat("a", 64), "keep")
	empty := s.Paths.StateDir(strings.Repeat("f", 64))
	os.MkdirAll(empty, 0o700)
	os.WriteFile(filepath.Join(empty, ".config.json.tmp-123"), []byte("{"), 0o644)
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Name != "keep" {
		t.Fatalf("List = %v, %v", list, err)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover directory is still there: %v", err)
	}
}

// Teardown errors are told on one line, and each is still there for
// errors.Is; a broken record is a corrupt state file.
func TestOneLineErrors(t *testing.T) {
	a, b := errors.New("first\nsecond"), fmt.Errorf("third: %w", ErrNotExist)
	err := oneLine(nil, a, nil, b)
	if err == nil || strings.Contains(err.Error(), "\n") || err.Error() != "first; second; third: no such container" {
		t.Fatalf("oneLine = %q", err)
	}
	if !errors.Is(err, ErrNotExist) || !errors.Is(err, a) {
		t.Errorf("oneLine hides its errors: %v", err)
	}
	if oneLine(nil, nil) != nil || oneLine(b) != b {
		t.Errorf("oneLine of none or one error changes it")
	}
	if !errors.Is(&BrokenError{ID: "x", Path: "p", Reason: "r"}, statefile.ErrCorrupt) {
		t.Errorf("a broken record is not a corrupt state file")
	}
}

// A name is taken whatever the record's first bytes: read fast from a
// record as this mydocker writes it, through the whole head from one that
// begins otherwise (an older mydocker's, say).
func TestStoreNameCheckReadsFirstBytesOrHead(t *testing.T) {
	s := newTestStore(t)
	a := add(t, s, strings.Repeat("d", 64), "fast")
	if c, ok := readIDName(s.Paths.configPath(a.ID)); !ok || c.ID != a.ID || c.Name != "fast" {
		t.Fatalf("readIDName = %v, %v", c, ok)
	}
	id := strings.Repeat("e", 64)
	if err := os.MkdirAll(s.Paths.StateDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Paths.configPath(id), []byte(`{"Name":"slow","ID":"`+id+`","Status":"exited"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := readIDName(s.Paths.configPath(id)); ok {
		t.Fatal("readIDName read a record that does not begin with ID and Name")
	}
	for _, name := range []string{"fast", "slow"} {
		if err := s.Create(&Config{ID: strings.Repeat("f", 64), Name: name}); !errors.Is(err, ErrNameTaken) {
			t.Errorf("name %q: %v, want taken", name, err)
		}
	}
}
