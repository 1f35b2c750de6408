package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Freeze implements Manager: v1's freezer hierarchy.
func (m *v1) Freeze(frozen bool) error {
	if !m.has("freezer") {
		return fmt.Errorf("this host has no freezer hierarchy: a container cannot be paused")
	}
	file := filepath.Join(m.path("freezer"), "freezer.state")
	state, why := "THAWED", "thaw every process of the container: they go on where they stopped"
	if frozen {
		state, why = "FROZEN", "freeze every process of the container at once (the cgroup freezer): none runs until it is thawed"
	}
	return m.k.Do(write(m.fs, why, filepath.Dir(file), "freezer.state", state),
		awaitFreeze{file: file, done: func(s string) bool { return strings.TrimSpace(s) == state }, state: state})
}

// Freeze implements Manager: cgroup2's cgroup.freeze.
func (m *v2) Freeze(frozen bool) error {
	value, want, why := "0", "frozen 0", "thaw every process of the container: they go on where they stopped"
	if frozen {
		value, want, why = "1", "frozen 1", "freeze every process of the container at once (cgroup.freeze): none runs until it is thawed"
	}
	events := filepath.Join(m.path(), "cgroup.events")
	return m.k.Do(write(m.fs, why, m.path(), "cgroup.freeze", value),
		awaitFreeze{file: events, done: func(s string) bool { return strings.Contains(s, want) }, state: want})
}

// awaitFreeze waits until the freezer says it is done: a freeze is not
// instant (a v1 cgroup reads FREEZING until every task has stopped).
type awaitFreeze struct {
	file  string
	state string
	done  func(content string) bool
}

func (awaitFreeze) Why() string { return "" }
func (a awaitFreeze) Command() kernel.Command {
	return kernel.Command{Comment: "mydocker waits until " + a.file + " says " + a.state}
}
func (a awaitFreeze) Apply(*kernel.Exec) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(a.file)
		if err != nil {
			return err
		}
		if a.done(string(b)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still says %q after 5s", a.file, strings.TrimSpace(string(b)))
		}
		time.Sleep(time.Millisecond)
	}
}
