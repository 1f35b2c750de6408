package container

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
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
	if _, err := s.Get("x"); err == nil || !strings.Contains(err.Error(), s.Paths.configPath(c.ID)) {
		t.Fatalf("a corrupt state file must be an error naming it, got %v", err)
	}
	if err := s.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("after Delete: %v %v", list, err)
	}
}
