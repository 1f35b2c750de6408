package test

import "testing"

// Volumes killed at every step (see crash_test.go): a volume is whole or
// gone, and what a user does next (create again, rm -f, prune) leaves the
// state as it would be had nothing been killed.
var volumeCrashCases = []crashCase{
	{name: "volume create then retry", key: "volume create", setup: withVolumeStore,
		op: []string{"volume", "create", "v1"}, next: []crashStep{step("", "volume", "create", "v1")}, retry: true,
		undo: []crashStep{step("", "volume", "rm", "v1")}},
	{name: "volume rm then rm -f", key: "volume rm", setup: withVolumeStore,
		prep: []crashStep{step("", "volume", "create", "v1")},
		op:   []string{"volume", "rm", "v1"}, next: []crashStep{step("", "volume", "rm", "-f", "v1")}},
	// A run that makes a named and an anonymous volume: a creation cut
	// short is undone with its anonymous volume, or leaves that volume
	// dangling (killed before the record): prune's.
	{name: "run with volumes then rm -v", key: "run", setup: withVolumeStore,
		op:   []string{"run", "--name", "c", "--net", "none", "-v", "/anon", "-v", "named:/n", "busybox", "true"},
		next: []crashStep{step("no such container", "rm", "-f", "-v", "c"), step("", "volume", "prune", "-f", "-a")}},
	// cp of a stopped container mounts it in a mount namespace of its own:
	// killed at any step, it leaves no mount that would keep rm from
	// removing the container's layer.
	{name: "cp into a stopped container then rm", key: "cp", setup: withVolumeStore,
		prep: []crashStep{step("", "run", "--name", "c", "--net", "none", "-v", "cv:/v", "busybox", "true")},
		op:   []string{"cp", "/etc/hostname", "c:/v/"},
		next: []crashStep{step("", "rm", "-f", "c"), step("", "volume", "rm", "cv")}},
}

// withVolumeStore makes the volume store's directory, which stays.
func withVolumeStore(x *crashEnv) {
	x.mustMd("volume", "create", "warm")
	x.mustMd("volume", "rm", "warm")
}

func TestVolumeCrashAtEveryKillPoint(t *testing.T) {
	for _, c := range volumeCrashCases {
		t.Run(c.name, func(t *testing.T) { crashEveryPoint(t, c) })
	}
}
