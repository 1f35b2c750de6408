package volume

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
)

func store(t *testing.T) Store {
	log := logrus.New()
	log.SetOutput(io.Discard)
	return Store{Dir: filepath.Join(t.TempDir(), "volumes"), K: kernel.NewReal(log)}
}

func TestCreateGetListRemove(t *testing.T) {
	s := store(t)
	v, created, err := s.Create(&Volume{Name: "db", Labels: map[string]string{"a": "b"}})
	if err != nil || !created || v.Mountpoint != filepath.Join(s.Dir, "db", "_data") || v.Driver != Driver {
		t.Fatalf("Create = %+v, %v, %v", v, created, err)
	}
	if _, err := os.Stat(v.Mountpoint); err != nil {
		t.Fatalf("no data directory: %v", err)
	}
	// Again: the one that exists, its data directory made again if gone.
	os.Remove(v.Mountpoint)
	again, created, err := s.Create(&Volume{Name: "db"})
	if err != nil || created || again.Labels["a"] != "b" {
		t.Fatalf("Create again = %+v, %v, %v", again, created, err)
	}
	if _, err := os.Stat(v.Mountpoint); err != nil {
		t.Errorf("data directory not made again: %v", err)
	}
	anon, _, err := s.Create(&Volume{Labels: map[string]string{AnonymousLabel: ""}})
	if err != nil || len(anon.Name) != 64 || !anon.Anonymous() {
		t.Fatalf("Create without a name = %+v, %v", anon, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if _, err := s.Get("nothing"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Get of nothing: %v", err)
	}
	unlock, _ := s.Lock()
	err = s.RemoveLocked("db")
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "db")); !os.IsNotExist(err) {
		t.Errorf("db is left: %v", err)
	}
	for _, bad := range []string{"x", "-x", "a/b", "a b", ".hidden"} {
		if _, _, err := s.Create(&Volume{Name: bad}); err == nil {
			t.Errorf("Create(%q) accepted", bad)
		}
	}
	if _, _, err := s.Create(&Volume{Name: "nfs", Driver: "nfs"}); err == nil {
		t.Error("an unknown driver was accepted")
	}
}

func TestLockSweepsWhatAKilledCommandLeft(t *testing.T) {
	s := store(t)
	s.Create(&Volume{Name: "kept"})
	os.MkdirAll(filepath.Join(s.Dir, "half-made", "_data"), 0o755)      // killed before its record
	os.MkdirAll(filepath.Join(s.Dir, ".removing-gone", "_data"), 0o755) // killed while removed
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	ents, _ := os.ReadDir(s.Dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != ".lock" || names[1] != "kept" {
		t.Errorf("after the lock: %v", names)
	}
	// A broken record: skipped by List, with the others listed.
	os.MkdirAll(filepath.Join(s.Dir, "broken"), 0o755)
	os.WriteFile(filepath.Join(s.Dir, "broken", "volume.json"), []byte("{"), 0o644)
	if list, err := s.List(); err != nil || len(list) != 1 || list[0].Name != "kept" {
		t.Errorf("List with a broken record = %v, %v", list, err)
	}
	if _, err := s.Get("broken"); err == nil {
		t.Error("Get of a broken record: no error")
	}
}
