package joinprime

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The primer writes this process's pid into the cgroup it is in already:
// the file it finds lists this process, and after the primer has run the
// process is where it was.
func TestPrimerMovesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: cgroup.procs is root's")
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	file, ok := procsFile()
	if !strings.Contains(string(mi), " - cgroup2 ") {
		if ok {
			t.Fatalf("no cgroup2 is mounted, yet the primer would write to %s", file)
		}
		t.Skip("no cgroup2 mounted: the primer writes nothing (mydocker primes from Go)")
	}
	if !ok {
		t.Fatal("a cgroup2 is mounted, but the primer finds no cgroup.procs of this process")
	}
	procs, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(procs), "\n"+strconv.Itoa(os.Getpid())+"\n") {
		t.Fatalf("%s does not list this process (%d):\n%s", file, os.Getpid(), procs)
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	Prime()
	time.Sleep(100 * time.Millisecond) // the grace period, in its thread
	after, _ := os.ReadFile("/proc/self/cgroup")
	if string(after) != string(before) {
		t.Errorf("the primer moved this process:\n%s\nto\n%s", before, after)
	}
}
