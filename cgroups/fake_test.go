package cgroups

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	devconfig "github.com/opencontainers/cgroups/devices/config"
	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// fakeFS is a t.TempDir() laid out like a cgroup mount, plus just enough of
// the kernel's behaviour for a Manager to run on it: a new v2 cgroup gets a
// cgroup.controllers listing what its parent enabled, and rmdir removes a
// directory together with its (interface) files, as on cgroupfs.
type fakeFS struct {
	t    *testing.T
	root string
	cmds []string // the narrated "$" commands, in order, with root shown as /cg
	srcs []string // their source= fields
	// programs maps each cgroup2 directory (root shown as /cg) to the
	// devices.list its attached device program allows.
	programs map[string][]security.DeviceEntry
}

func newFake(t *testing.T) *fakeFS {
	return &fakeFS{t: t, root: t.TempDir(), programs: map[string][]security.DeviceEntry{}}
}

// attach stands in for loading and attaching a device program: it
// records what the program would allow.
func (f *fakeFS) attach(dir string, rules []*devconfig.Rule) error {
	if _, err := security.DeviceProgram(rules); err != nil {
		return err
	}
	list, err := security.ExpectedDevicesList(rules)
	if err != nil {
		return err
	}
	f.programs[strings.ReplaceAll(dir, f.root, "/cg")] = list
	return nil
}

// put writes a file under root, creating its directory.
func (f *fakeFS) put(rel, content string) {
	f.t.Helper()
	p := filepath.Join(f.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// get reads a file under root ("<missing>" when absent).
func (f *fakeFS) get(rel string) string {
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func (f *fakeFS) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(f.root, rel))
	return err == nil
}

// kernel is a narrating kernel that records each command.
func (f *fakeFS) kernel() kernel.Kernel {
	return recorder(func(cmd, src string) {
		f.cmds = append(f.cmds, strings.ReplaceAll(cmd, f.root, "/cg"))
		f.srcs = append(f.srcs, src)
	})
}

// recorder is a narrating kernel that hands each narrated command, and
// its source=, to rec.
func recorder(rec func(cmd, src string)) kernel.Kernel {
	l := logrus.New()
	l.SetOutput(nopWriter{})
	l.AddHook(hook(func(e *logrus.Entry) {
		if c, ok := e.Data[kernel.FieldStep].(kernel.Command); ok {
			src, _ := e.Data["source"].(string)
			rec(c.Text(nil), src)
		}
	}))
	return kernel.NewNarrating(l)
}

type hook func(e *logrus.Entry)

func (hook) Levels() []logrus.Level       { return logrus.AllLevels }
func (h hook) Fire(e *logrus.Entry) error { h(e); return nil }

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// kernelWrite is a write to cgroupfs: on a v2 cgroup.subtree_control,
// "+x -y" turns controllers on and off, the file then lists them without
// signs, and the children's cgroup.controllers follow; on a v1 devices
// cgroup, devices.deny and devices.allow change devices.list.
func kernelWrite(p, value string) error {
	switch filepath.Base(p) {
	case "devices.allow", "devices.deny":
		return devicesWrite(filepath.Dir(p), filepath.Base(p) == "devices.allow", value)
	case "cgroup.subtree_control":
	default:
		return os.WriteFile(p, []byte(value), 0o644)
	}
	old, _ := os.ReadFile(p)
	on := map[string]bool{}
	for _, w := range strings.Fields(string(old)) {
		on[w] = true
	}
	for _, w := range strings.Fields(value) {
		on[w[1:]] = w[0] == '+'
	}
	var list []string
	for _, c := range []string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids"} {
		if on[c] {
			list = append(list, c)
		}
	}
	line := strings.Join(list, " ")
	ents, _ := os.ReadDir(filepath.Dir(p))
	for _, e := range ents {
		if e.IsDir() {
			_ = os.WriteFile(filepath.Join(filepath.Dir(p), e.Name(), "cgroup.controllers"), []byte(line), 0o644)
		}
	}
	return os.WriteFile(p, []byte(line), 0o644)
}

// devicesWrite is the v1 devices controller, for exact entries: "a" to
// devices.deny empties the list (deny by default), to devices.allow makes
// it "a *:* rwm"; an entry is added by an allow (permissions merged) and
// taken away by a deny.
func devicesWrite(dir string, allow bool, line string) error {
	listFile := filepath.Join(dir, "devices.list")
	if line == "a" {
		content := ""
		if allow {
			content = "a *:* rwm\n"
		}
		return os.WriteFile(listFile, []byte(content), 0o644)
	}
	add, err := security.ParseDevicesList(strings.NewReader(line))
	if err != nil || len(add) != 1 {
		return fmt.Errorf("write %q: invalid argument", line)
	}
	b, _ := os.ReadFile(listFile)
	list, err := security.ParseDevicesList(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if len(list) == 1 && list[0].Type == 'a' {
		return nil // allow by default: an exception to it is not shown
	}
	e, found := add[0], false
	var out []string
	for _, old := range list {
		if old.Type == e.Type && old.Major == e.Major && old.Minor == e.Minor {
			found = true
			p := devconfig.Permissions(old.Perms)
			if allow {
				p = p.Union(devconfig.Permissions(e.Perms))
			} else {
				p = p.Difference(devconfig.Permissions(e.Perms))
			}
			if p.IsEmpty() {
				continue
			}
			old.Perms = string(p)
		}
		out = append(out, old.String())
	}
	if !found && allow {
		out = append(out, e.String())
	}
	return os.WriteFile(listFile, []byte(strings.Join(out, "\n")+"\n"), 0o644)
}

// kernelMkdir is mkdir on cgroupfs: a new v2 cgroup comes with the
// controllers its parent enabled, a new v1 devices cgroup with its
// parent's devices.list.
func kernelMkdir(p string) error {
	if err := os.Mkdir(p, 0o755); err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(p), "devices.list")); err == nil {
		_ = os.WriteFile(filepath.Join(p, "devices.list"), b, 0o644)
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(p), "cgroup.subtree_control")); err == nil {
		_ = os.WriteFile(filepath.Join(p, "cgroup.controllers"), b, 0o644)
		_ = os.WriteFile(filepath.Join(p, "cgroup.subtree_control"), nil, 0o644)
	}
	return nil
}

// kernelRmdir is rmdir on cgroupfs: the interface files go with the
// directory, child cgroups do not.
func kernelRmdir(p string) error {
	ents, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			return os.Remove(p) // ENOTEMPTY, as the kernel says
		}
	}
	return os.RemoveAll(p)
}

// manager builds a Manager for id on the fake tree with cgroupfs's rmdir.
func (f *fakeFS) manager(id string) Manager {
	f.t.Helper()
	m, err := NewAt(f.root, id, f.kernel())
	if err != nil {
		f.t.Fatal(err)
	}
	fake := &kernel.CgroupFS{Mkdir: kernelMkdir, Rmdir: kernelRmdir, Write: kernelWrite}
	switch m := m.(type) {
	case *v1:
		m.fs, m.attach = fake, f.attach
	case *v2:
		m.fs, m.attach = fake, f.attach
	}
	return m
}

func (f *fakeFS) takeCmds() []string {
	c := f.cmds
	f.cmds, f.srcs = nil, nil
	return c
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// programCmd is the narrated step that attaches docker's device program to
// dir: a "#" comment, no shell command does it.
func programCmd(dir string) string {
	return deviceProgram{dir: dir, rules: security.DefaultDeviceRules()}.Command().Text(nil)
}

// defaultList is docker's devices.list.
func defaultList(t *testing.T) []security.DeviceEntry {
	t.Helper()
	l, err := security.ExpectedDevicesList(security.DefaultDeviceRules())
	if err != nil {
		t.Fatal(err)
	}
	return l
}
