package main

import "testing"

// What a user types goes through urfave/cli as before: runInit takes only
// the parent's exact command line.
func TestRunInitLeavesOtherCommandLinesToTheApp(t *testing.T) {
	for _, args := range [][]string{
		{"mydocker"},
		{"mydocker", "ps"},
		{"mydocker", "init", "--help"},
		{"mydocker", "-q", "init"},
		{"mydocker", "--log-level=debug", "init"},
		{"mydocker", "--root", "init"},
		{"mydocker", "--dry-run", "x", "init"},
		{"mydocker", "run", "busybox", "init"},
	} {
		if err := runInit(args); err != errNotInit {
			t.Errorf("runInit(%q) = %v, want errNotInit", args, err)
		}
	}
	t.Setenv("MYDOCKER_LOG_LEVEL", "warn")
	if err := runInit([]string{"mydocker", "--root", "/r", "init"}); err != errNotInit {
		t.Errorf("with MYDOCKER_LOG_LEVEL set: runInit = %v, want errNotInit", err)
	}
}

// A bad value the parent passed is the same one-line usage error as
// through the App.
func TestRunInitBadLogLevel(t *testing.T) {
	err := runInit([]string{"mydocker", "--log-level", "loud", "init"})
	if err == nil || err == errNotInit || err.Error() != `invalid --log-level "loud" (debug, info, warn or error)` {
		t.Fatalf("runInit with --log-level loud = %v", err)
	}
}
