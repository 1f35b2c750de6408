//go:build !crashtest

package kernel

import (
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
)

// The release build ignores the crash-injection switch: armed for this
// verb at its first op, it still does the op (and this test lives).
func TestReleaseBuildIgnoresTheCrashSwitch(t *testing.T) {
	t.Setenv("MYDOCKER_TEST_KILL", "run:1")
	ArmCrash("run")
	path := filepath.Join(t.TempDir(), "state.json")
	k := NewNarrating(logrus.New())
	defer k.Close()
	if err := k.Do(WriteState{Path: path, Value: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := ReadState(k, path, &got); err != nil || got["a"] != 1 {
		t.Fatalf("the op was not done: %v %v", got, err)
	}
}
