package statefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "x.json")
	in := map[string]int{"a": 1}
	if err := WriteJSON(p, in); err != nil {
		t.Fatal(err)
	}
	var out map[string]int
	if err := ReadJSON(p, &out); err != nil {
		t.Fatal(err)
	}
	if out["a"] != 1 {
		t.Fatalf("got %v", out)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestReadMissingAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	var v map[string]int
	if err := ReadJSON(filepath.Join(dir, "none"), &v); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: got %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	err := ReadJSON(bad, &v)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt file: got %v", err)
	}
}

// Many goroutines each holding the lock for a read-modify-write must not lose
// an increment (flock is per open file description, so it serialises
// goroutines of one process as it does separate processes).
func TestLockSerialisesReadModifyWrite(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "counter.json")
	lock := filepath.Join(dir, "counter.lock")
	if err := WriteJSON(data, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := Lock(lock)
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			var n int
			if err := ReadJSON(data, &n); err != nil {
				t.Error(err)
				return
			}
			if err := WriteJSON(data, n+1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int
	if err := ReadJSON(data, &n); err != nil {
		t.Fatal(err)
	}
	if n != 50 {
		t.Fatalf("counter = %d, want 50", n)
	}
}

// A temp file left by a writer that died goes with the next write of the
// file; a live writer's stays.
func TestWriteRemovesDeadWritersTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	dead := filepath.Join(dir, ".state.json.tmp-4194304-123") // above pid_max's default: no such process
	live := filepath.Join(dir, fmt.Sprintf(".state.json.tmp-%d-456", os.Getpid()))
	for _, f := range []string{dead, live} {
		if err := os.WriteFile(f, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteJSON(path, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead writer's temp file is left: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live writer's temp file went: %v", err)
	}
}
