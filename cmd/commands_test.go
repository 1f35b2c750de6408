package cmd

import "testing"

func TestCrashKey(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"run", "-d", "--name", "c", "busybox"}, "run"},
		{[]string{"shim", "0123"}, "shim"},
		{[]string{"network", "create", "nk"}, "network create"},
		{[]string{"network", "ls"}, "network list"}, // an alias names its verb
		{[]string{"network"}, "network"},
		{[]string{"netsetgo", "-pid", "1"}, "netsetgo"},
		{[]string{"netsetgo", "--cleanup=true", "-pid", "1"}, "netsetgo -cleanup"},
		{[]string{"netsetgo", "-pid", "1", "-cleanup"}, "netsetgo -cleanup"},
		{[]string{"nosuchverb"}, "nosuchverb"},
	} {
		if got := CrashKey(c.args); got != c.want {
			t.Errorf("CrashKey(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
