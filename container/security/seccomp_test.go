package security

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// call builds a seccomp_data for a system call of the named ABI.
func call(t testing.TB, sa subArch, name string, args ...uint64) [64]byte {
	t.Helper()
	nr, ok := sa.lookup(name)
	if !ok {
		t.Fatalf("no %s on %s", name, sa.name)
	}
	var d [64]byte
	binary.NativeEndian.PutUint32(d[0:], uint32(nr)|sa.mask)
	binary.NativeEndian.PutUint32(d[4:], sa.id)
	for i, a := range args {
		binary.NativeEndian.PutUint64(d[16+8*i:], a)
	}
	return d
}

func verdict(t testing.TB, prog []byte, d [64]byte) uint32 {
	t.Helper()
	r, err := runFilter(prog, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	allow  = retAllow
	eperm  = retErrno | uint32(unix.EPERM)
	enosys = retErrno | uint32(unix.ENOSYS)
)

func defaultCapsEnv() CapEnv { return CapEnv{LastCap: 40, Available: 1<<41 - 1} }

func buildDefault(t testing.TB, adds ...string) *Seccomp {
	t.Helper()
	c, err := ResolveCaps(defaultCapsEnv(), adds, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSeccomp("default", nil, c.Bounding)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSeccompDefaultProfile(t *testing.T) {
	s := buildDefault(t)
	t.Logf("default profile: %d instructions", s.Instructions())
	x64 := subArches[specs.ArchX86_64]
	nsFlags := uint64(unix.CLONE_NEWUSER)
	cases := []struct {
		name string
		d    [64]byte
		want uint32
	}{
		{"read", call(t, x64, "read"), allow},
		{"mkdir", call(t, x64, "mkdir"), allow},
		{"clone thread", call(t, x64, "clone", unix.CLONE_VM|unix.CLONE_THREAD), allow},
		{"clone newuser", call(t, x64, "clone", nsFlags), eperm},
		{"clone newns", call(t, x64, "clone", unix.CLONE_NEWNS|uint64(unix.SIGCHLD)), eperm},
		{"clone3", call(t, x64, "clone3"), enosys},
		{"unshare", call(t, x64, "unshare", unix.CLONE_NEWUSER), eperm},
		{"mount", call(t, x64, "mount"), eperm},
		{"acct", call(t, x64, "acct"), eperm},
		{"bpf", call(t, x64, "bpf"), eperm},
		{"open_by_handle_at", call(t, x64, "open_by_handle_at"), eperm},
		{"personality 0", call(t, x64, "personality", 0), allow},
		{"personality query", call(t, x64, "personality", 0xffffffff), allow},
		{"personality other", call(t, x64, "personality", 1), eperm},
		{"socket inet", call(t, x64, "socket", unix.AF_INET), allow},
		{"socket inet6", call(t, x64, "socket", unix.AF_INET6), allow},
		{"socket unix", call(t, x64, "socket", unix.AF_UNIX), allow},
		{"chroot", call(t, x64, "chroot"), allow},
		{"reboot", call(t, x64, "reboot"), eperm},
		{"newer than the profile", func() [64]byte { d := call(t, x64, "read"); binary.NativeEndian.PutUint32(d[0:], 1000); return d }(), enosys},
		{"i386 read", call(t, subArches[specs.ArchX86], "read"), allow},
		{"i386 mount", call(t, subArches[specs.ArchX86], "mount"), eperm},
		{"x32 read", call(t, subArches[specs.ArchX32], "read"), allow},
		{"x32 mount", call(t, subArches[specs.ArchX32], "mount"), eperm},
		{"arm64 on x86", call(t, subArches[specs.ArchAARCH64], "read"), badArchAction},
	}
	for _, c := range cases {
		if got := verdict(t, s.Program, c.d); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestSeccompFollowsCaps(t *testing.T) {
	s := buildDefault(t, "SYS_ADMIN", "sys_pacct")
	x64 := subArches[specs.ArchX86_64]
	for name, d := range map[string][64]byte{
		"clone newuser": call(t, x64, "clone", unix.CLONE_NEWUSER),
		"clone3":        call(t, x64, "clone3"),
		"mount":         call(t, x64, "mount"),
		"unshare":       call(t, x64, "unshare"),
		"acct":          call(t, x64, "acct"),
	} {
		if got := verdict(t, s.Program, d); got != allow {
			t.Errorf("with CAP_SYS_ADMIN and CAP_SYS_PACCT, %s: got %#x, want allow", name, got)
		}
	}
	// Still refused: the profile ties open_by_handle_at to DAC_READ_SEARCH.
	if got := verdict(t, s.Program, call(t, x64, "open_by_handle_at")); got != eperm {
		t.Errorf("open_by_handle_at: %#x", got)
	}
}

func TestSeccompCustomProfile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "nomkdir.json")
	os.WriteFile(file, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
		{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"},
		{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
		{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":21522,"op":"SCMP_CMP_EQ"}]},
		{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":4294967296,"op":"SCMP_CMP_GE"}]},
		{"names":["madvise"],"action":"SCMP_ACT_ERRNO","args":[{"index":2,"value":15,"valueTwo":4,"op":"SCMP_CMP_MASKED_EQ"}]},
		{"names":["lseek"],"action":"SCMP_ACT_ERRNO","args":[{"index":2,"value":2,"op":"SCMP_CMP_NE"},{"index":0,"value":3,"op":"SCMP_CMP_LT"}]}]}`), 0o644)
	body, err := ReadProfile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSeccomp(file, body, DefaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	x64 := subArches[specs.ArchX86_64]
	cases := []struct {
		name string
		d    [64]byte
		want uint32
	}{
		{"mkdir", call(t, x64, "mkdir"), eperm},
		{"mkdirat", call(t, x64, "mkdirat"), eperm},
		{"getpid", call(t, x64, "getpid"), enosys},
		{"read", call(t, x64, "read"), allow},
		{"new syscall, default allow", func() [64]byte { d := call(t, x64, "read"); binary.NativeEndian.PutUint32(d[0:], 1000); return d }(), allow},
		{"ioctl TIOCSTI", call(t, x64, "ioctl", 0, unix.TIOCSTI), eperm},
		{"ioctl other", call(t, x64, "ioctl", 0, unix.TIOCGWINSZ), allow},
		{"ioctl high bits", call(t, x64, "ioctl", 0, 1<<32|unix.TIOCSTI), allow},
		{"kill ge 2^32", call(t, x64, "kill", 0, 1<<32), eperm},
		{"kill below", call(t, x64, "kill", 0, 1<<32-1), allow},
		{"madvise masked match", call(t, x64, "madvise", 0, 0, 0x14), eperm},
		{"madvise masked miss", call(t, x64, "madvise", 0, 0, 0x13), allow},
		{"lseek ne", call(t, x64, "lseek", 5, 0, 1), allow},
		{"lseek ne and lt", call(t, x64, "lseek", 1, 0, 1), eperm},
		{"lseek eq", call(t, x64, "lseek", 5, 0, 2), allow},
	}
	for _, c := range cases {
		if got := verdict(t, s.Program, c.d); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestSeccompBadProfiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, c := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.json"), "no such file"},
		{write("bad.json", "{"), "invalid JSON"},
		{write("empty.json", "{}"), "no defaultAction"},
		{write("notify.json", `{"defaultAction":"SCMP_ACT_NOTIFY"}`), "SCMP_ACT_NOTIFY"},
		{write("badop.json", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"op":"SCMP_CMP_XX"}]}]}`), "unknown operator"},
		{write("badact.json", `{"defaultAction":"SCMP_ACT_NOPE"}`), "unknown action"},
	} {
		body, err := ReadProfile(c.file)
		if err == nil {
			_, err = BuildSeccomp(c.file, body, DefaultCaps)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.file, err, c.want)
		}
	}
}

func TestSeccompCache(t *testing.T) {
	dir := t.TempDir()
	a, err := BuildSeccompCached(dir, "default", nil, DefaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("cache has %d entries", len(entries))
	}
	b, err := BuildSeccompCached(dir, "default", nil, DefaultCaps)
	if err != nil || string(a.Program) != string(b.Program) {
		t.Fatalf("cached program differs: %v", err)
	}
	if CacheKey(nil, DefaultCaps) == CacheKey(nil, append([]string{"CAP_SYS_ADMIN"}, DefaultCaps...)) {
		t.Error("cache key ignores the capability set")
	}
}

func BenchmarkSeccompDefault(b *testing.B) {
	for b.Loop() {
		if _, err := BuildSeccomp("default", nil, DefaultCaps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeccompDefaultCompileOnly(b *testing.B) {
	p, err := EvalProfile(nil, DefaultCaps)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeccompDefaultCached(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := BuildSeccompCached(dir, "default", nil, DefaultCaps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolveDefault is the whole of what `run` would do for a default
// container: flags to Config, the seccomp program included.
func BenchmarkResolveDefault(b *testing.B) {
	root := testRootfs(b)
	o := Options{Rootfs: root, Env: defaultCapsEnv()}
	for b.Loop() {
		if _, err := Resolve(Flags{}, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveDefaultCached(b *testing.B) {
	root := testRootfs(b)
	o := Options{Rootfs: root, Env: defaultCapsEnv(), SeccompCache: b.TempDir()}
	for b.Loop() {
		if _, err := Resolve(Flags{}, o); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSeccompNarration(t *testing.T) {
	s := buildDefault(t)
	if n := s.Narration(); !strings.HasPrefix(n, "seccomp: load docker's default profile as a ") || !strings.Contains(n, "no shell command") {
		t.Error(n)
	}
}

func TestSeccompNativeAlwaysFiltered(t *testing.T) {
	// A profile that lists only x86 still filters x86_64, as libseccomp does.
	body := []byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	s, err := BuildSeccomp("x86-only", body, DefaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	x64, x86 := subArches[specs.ArchX86_64], subArches[specs.ArchX86]
	for _, c := range []struct {
		d    [64]byte
		want uint32
	}{
		{call(t, x64, "read"), allow},
		{call(t, x64, "write"), eperm},
		{call(t, x86, "read"), allow},
		{call(t, subArches[specs.ArchX32], "read"), badArchAction},
	} {
		if got := verdict(t, s.Program, c.d); got != c.want {
			t.Errorf("got %#x, want %#x", got, c.want)
		}
	}
}

func TestSeccompARMPrivateCalls(t *testing.T) {
	// ARM's private calls (cacheflush is 0xf0002) take the other sort.
	body := []byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_ARM"],"syscalls":[
		{"names":["cacheflush","read"],"action":"SCMP_ACT_ALLOW"},
		{"names":["write"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
		{"names":["write"],"action":"SCMP_ACT_ALLOW"}]}`)
	s, err := BuildSeccomp("arm", body, DefaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	arm := subArches[specs.ArchARM]
	for name, want := range map[string]uint32{"cacheflush": allow, "read": allow, "write": enosys, "open": eperm} {
		if got := verdict(t, s.Program, call(t, arm, name)); got != want {
			t.Errorf("arm %s: got %#x, want %#x", name, got, want)
		}
	}
}
