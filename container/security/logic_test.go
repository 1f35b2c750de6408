package security

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type fakeInfo struct{ dir bool }

func (f fakeInfo) Name() string       { return "" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return 0 }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return nil }

func TestPathRules(t *testing.T) {
	dirs := map[string]bool{"/proc/acpi": true, "/proc/sys": true, "/sys/firmware": true, "/proc/scsi": true}
	files := map[string]bool{"/proc/kcore": true, "/proc/keys": true, "/proc/sysrq-trigger": true}
	stat := func(p string) (os.FileInfo, error) {
		if dirs[p] {
			return fakeInfo{true}, nil
		}
		if files[p] {
			return fakeInfo{false}, nil
		}
		return nil, os.ErrNotExist
	}
	got := PathRules(append(MaskedPaths(), "/proc/kcore"), ReadonlyPaths(), stat)
	want := []PathRule{
		{"/proc/acpi", MaskDir}, {"/proc/kcore", MaskFile}, {"/proc/keys", MaskFile}, {"/proc/scsi", MaskDir},
		{"/sys/firmware", MaskDir}, {"/proc/sys", ReadOnly}, {"/proc/sysrq-trigger", ReadOnly},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if c := (PathRule{"/proc/kcore", MaskFile}).Command(); c != "mount --bind /dev/null /proc/kcore" {
		t.Error(c)
	}
	if c := (PathRule{"/proc/sys", ReadOnly}).Command(); c != "mount --rbind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys" {
		t.Error(c)
	}
}

func TestMaskedPathsList(t *testing.T) {
	m := MaskedPaths()
	for _, p := range []string{"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware"} {
		if !slices.Contains(m, p) {
			t.Errorf("%s not masked", p)
		}
	}
	if got := parseCPUList("0-2,5,7-8"); !slices.Equal(got, []int{0, 1, 2, 5, 7, 8}) {
		t.Errorf("parseCPUList: %v", got)
	}
}

// docker's devices.list in a default container.
const dockerDevicesList = `c 1:5 rwm
c 1:3 rwm
c 1:9 rwm
c 1:8 rwm
c 5:0 rwm
c 5:1 rwm
c *:* m
b *:* m
c 1:7 rwm
c 136:* rwm
c 5:2 rwm
c 10:200 rwm
`

func TestDeviceRulesV1(t *testing.T) {
	ws := V1Writes(DefaultDeviceRules())
	if ws[0] != (V1Write{"devices.deny", "a"}) || ws[1] != (V1Write{"devices.allow", "c 1:5 rwm"}) {
		t.Errorf("writes start %v", ws[:2])
	}
	if ws[7] != (V1Write{"devices.deny", "c 10:229 rwm"}) || ws[8] != (V1Write{"devices.allow", "c *:* m"}) {
		t.Errorf("writes %v", ws[7:9])
	}
	if c := ws[0].Command("/sys/fs/cgroup/devices/mydocker/x"); c != "echo 'a' > /sys/fs/cgroup/devices/mydocker/x/devices.deny" {
		t.Error(c)
	}
	want, err := ParseDevicesList(strings.NewReader(dockerDevicesList))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ExpectedDevicesList(DefaultDeviceRules())
	if err != nil {
		t.Fatal(err)
	}
	if !SameDevicesList(got, want) {
		t.Errorf("expected list %v, docker's %v", got, want)
	}
	if SameDevicesList(got[1:], want) {
		t.Error("SameDevicesList misses a missing entry")
	}
	for _, bad := range []string{"c 1:3", "x 1:3 rwm", "c 1-3 rwm", "c 1:3 rwx"} {
		if _, err := ParseDevicesList(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	priv, _ := ExpectedDevicesList(PrivilegedDeviceRules())
	if len(priv) != 1 || priv[0].String() != "a *:* rwm" {
		t.Errorf("privileged: %v", priv)
	}
}

func TestParseDevice(t *testing.T) {
	cases := []struct {
		spec, path, perms string
	}{
		{"/dev/null", "/dev/null", "rwm"},
		{"/dev/null:/dev/mynull", "/dev/mynull", "rwm"},
		{"/dev/null:r", "/dev/null", "r"},
		{"/dev/null:/dev/x:rw", "/dev/x", "rw"},
	}
	for _, c := range cases {
		ds, err := ParseDevice(c.spec)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		d := ds[0]
		if d.Path != c.path || string(d.Permissions) != c.perms || d.Type != 'c' || d.Major != 1 || d.Minor != 3 {
			t.Errorf("%s: %+v", c.spec, d)
		}
	}
	for spec, want := range map[string]string{
		"/dev/nonexistent-mydocker": "no such file",
		"/etc/hostname":             "not a device node",
		"dev/null":                  "absolute",
		"/dev/null:/x:rwx":          "invalid device mode",
		"/a:/b:r:w":                 "HOST[:CONTAINER][:rwm]",
	} {
		if _, err := ParseDevice(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", spec, err, want)
		}
	}
}

func testRootfs(t testing.TB) string {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:100::/home/bob:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nusers:x:100:\nalice:x:1000:\nwheel:x:10:alice,bob\naudio:x:29:alice\n"), 0o644)
	return root
}

func TestResolveUser(t *testing.T) {
	root := testRootfs(t)
	cases := []struct {
		spec string
		want User
	}{
		{"", User{0, 0, []uint32{0}, "/root"}},
		{"alice", User{1000, 1000, []uint32{1000, 10, 29}, "/home/alice"}},
		{"bob", User{1001, 100, []uint32{100, 10}, "/home/bob"}},
		{"alice:users", User{1000, 100, []uint32{100}, "/home/alice"}},
		{"1000", User{1000, 1000, []uint32{1000, 10, 29}, "/home/alice"}},
		{"4242", User{4242, 0, []uint32{0}, "/"}},
		{"4242:4343", User{4242, 4343, []uint32{4343}, "/"}},
		{"bob:10", User{1001, 10, []uint32{10}, "/home/bob"}},
	}
	for _, c := range cases {
		got, err := ResolveUser(root, c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if got.UID != c.want.UID || got.GID != c.want.GID || got.Home != c.want.Home || !slices.Equal(got.AdditionalGids, c.want.AdditionalGids) {
			t.Errorf("%q: got %+v, want %+v", c.spec, got, c.want)
		}
	}
	for spec, want := range map[string]string{
		"mallory":       "unable to find user mallory",
		"alice:nogroup": "unable to find group nogroup",
	} {
		if _, err := ResolveUser(root, spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", spec, err, want)
		}
	}
	// An image without /etc/passwd: numbers work, names do not.
	empty := t.TempDir()
	if u, err := ResolveUser(empty, "1000:1000"); err != nil || u.UID != 1000 || u.Home != "/" {
		t.Errorf("no passwd, 1000:1000: %+v %v", u, err)
	}
	if _, err := ResolveUser(empty, "alice"); err == nil {
		t.Error("no passwd, alice resolved")
	}
	// /etc/passwd as a symlink to the host's stays inside the rootfs.
	esc := t.TempDir()
	os.MkdirAll(filepath.Join(esc, "etc"), 0o755)
	os.Symlink("/../../../../etc/passwd", filepath.Join(esc, "etc/passwd"))
	if _, err := ResolveUser(esc, "root"); err == nil {
		t.Error("symlinked /etc/passwd read the host's")
	}
}

func TestParseSecurityOpts(t *testing.T) {
	for _, c := range []struct {
		opts []string
		want SecurityOpts
	}{
		{nil, SecurityOpts{}},
		{[]string{"no-new-privileges"}, SecurityOpts{NoNewPrivileges: true}},
		{[]string{"no-new-privileges=true"}, SecurityOpts{NoNewPrivileges: true}},
		{[]string{"no-new-privileges:true", "no-new-privileges=false"}, SecurityOpts{}},
		{[]string{"seccomp=unconfined"}, SecurityOpts{Seccomp: "unconfined"}},
		{[]string{"seccomp:unconfined"}, SecurityOpts{Seccomp: "unconfined"}},
		{[]string{"seccomp=/etc/p.json"}, SecurityOpts{Seccomp: "/etc/p.json"}},
		{[]string{"seccomp=builtin"}, SecurityOpts{}},
	} {
		got, err := ParseSecurityOpts(c.opts)
		if err != nil || got != c.want {
			t.Errorf("%v: %+v %v", c.opts, got, err)
		}
	}
	for opt, want := range map[string]string{
		"no-new-privileges=maybe": `invalid --security-opt "no-new-privileges=maybe"`,
		"seccomp=":                "seccomp takes unconfined or a profile file",
		"apparmor=unconfined":     `unsupported --security-opt "apparmor=unconfined"`,
		"bogus=1":                 `unknown --security-opt "bogus=1"`,
		"nonsense":                `invalid --security-opt "nonsense"`,
	} {
		if _, err := ParseSecurityOpts([]string{opt}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", opt, err, want)
		}
	}
}

func TestResolveConfig(t *testing.T) {
	root := testRootfs(t)
	o := Options{Rootfs: root, Env: defaultCapsEnv()}
	c, err := Resolve(Flags{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := CapMask(c.Caps.Effective); m != "00000000a80425fb" || c.Seccomp.Unconfined || c.Seccomp.Instructions() == 0 || len(c.MaskedPaths) == 0 || c.NoNewPrivileges {
		t.Errorf("default config: %+v", c)
	}
	// It survives JSON, the BPF program included.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.Seccomp.Program) != string(c.Seccomp.Program) || len(back.DeviceRules) != len(c.DeviceRules) || back.DeviceRules[1].Major != 1 {
		t.Error("config changed through JSON")
	}

	c, err = Resolve(Flags{User: "alice", SecurityOpt: []string{"no-new-privileges"}, Devices: []string{"/dev/null:/dev/n2:r"}}, o)
	if err != nil {
		t.Fatal(err)
	}
	if c.User.UID != 1000 || len(c.Caps.Effective) != 0 || len(c.Caps.Bounding) != 14 || !c.NoNewPrivileges || len(c.Devices) != 1 {
		t.Errorf("alice: %+v", c)
	}
	if !slices.ContainsFunc(c.DeviceRules, func(r *DeviceRule) bool { return r.Major == 1 && r.Minor == 3 && r.Permissions == "r" }) {
		t.Error("--device rule missing")
	}

	c, err = Resolve(Flags{Privileged: true}, o)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Seccomp.Unconfined || c.MaskedPaths != nil || c.ReadonlyPaths != nil || c.DeviceRules[0].CgroupString() != "a *:* rwm" {
		t.Errorf("privileged: %+v", c)
	}

	for f, want := range map[*Flags]string{
		{CapAdd: []string{"NOPE"}}:                       "unknown capability",
		{SecurityOpt: []string{"seccomp=/nonexistent"}}:  "seccomp profile /nonexistent",
		{SecurityOpt: []string{"label=disable"}}:         "unsupported --security-opt",
		{User: "mallory"}:                                "unable to find user mallory",
		{Devices: []string{"/dev/nonexistent-mydocker"}}: "no such file",
	} {
		if _, err := Resolve(*f, o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want %q", *f, err, want)
		}
	}
}

func TestDeviceProgram(t *testing.T) {
	prog, err := DeviceProgram(DefaultDeviceRules())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		typ          rune
		major, minor uint32
		access       string
		want         bool
	}{
		{'c', 1, 3, "rw", true},      // null
		{'c', 1, 7, "rwm", true},     // full
		{'c', 1, 11, "r", false},     // kmsg
		{'c', 1, 11, "m", true},      // any char node may be made
		{'b', 8, 0, "r", false},      // a disk
		{'b', 8, 0, "m", true},       // made, never opened
		{'c', 136, 5, "rw", true},    // a pts
		{'c', 5, 2, "rw", true},      // ptmx
		{'c', 10, 229, "rw", false},  // fuse
		{'c', 10, 200, "rw", true},   // tun
		{'c', 4, 1, "w", false},      // tty1
		{'c', 1, 1, "rm", false},     // mem
		{'c', 5, 1, "rwm", true},     // console
		{'b', 1, 3, "r", false},      // a block device with null's numbers
		{'c', 1, 5, "", true},        // zero, no access asked
		{'c', 1000, 1000, "m", true}, // any
	}
	for _, c := range cases {
		got, err := runDeviceProgram(prog, c.typ, c.major, c.minor, c.access)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%c %d:%d %s: allowed %v, want %v", c.typ, c.major, c.minor, c.access, got, c.want)
		}
	}
	priv, err := DeviceProgram(PrivilegedDeviceRules())
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := runDeviceProgram(priv, 'b', 8, 0, "rw"); !ok {
		t.Error("privileged program refuses a disk")
	}
	if _, err := DeviceProgram([]*DeviceRule{devRule('c', 1, 3, "rwm", true)}); err == nil {
		t.Error("a list that does not start by denying everything compiled")
	}
}

func TestConfigSetpriv(t *testing.T) {
	c, err := Resolve(Flags{User: "alice", SecurityOpt: []string{"no-new-privileges"}}, Options{Rootfs: testRootfs(t), Env: defaultCapsEnv()})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Setpriv(), " ")
	if !strings.HasPrefix(got, "setpriv --reuid 1000 --regid 1000 --groups 1000,10,29 --bounding-set -all,+chown,") || !strings.HasSuffix(got, " --no-new-privs") {
		t.Error(got)
	}
}
