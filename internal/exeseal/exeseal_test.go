package exeseal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/testns"
)

// childEnv makes the test binary, started from a sealed copy of itself, act
// as a container's init would before exec'ing the user's command: "sleep"
// says ready on stdout and blocks until stdin closes; "exit" exits at once
// (a `true`, for the benchmarks).
const childEnv = "EXESEAL_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "sleep":
		os.Stdout.WriteString("ready\n")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "exit":
		os.Exit(0)
	}
	code := testns.Run(m)
	os.Remove(emptyDir)
	os.Exit(code)
}

// emptyDir is OpenOverlayDir's second layer in the tests: a directory of
// our own, beside (not above) the test binary's.
var emptyDir = filepath.Join(os.TempDir(), "exeseal-test-empty-"+strconv.Itoa(os.Getpid()))

var methods = []struct {
	name   string
	method Method
	open   func(string) (*Exe, error)
}{
	{"overlay", Overlay, OpenOverlay},
	{"overlay-dir", Overlay, func(p string) (*Exe, error) { return OpenOverlayDir(p, emptyDir) }},
	{"memfd", Memfd, OpenMemfd},
}

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// startChild execs p (an Exe's Path) with a few ExtraFiles (as the init gets its pipes), and
// returns once the child runs from it; closing stdin ends it.
func startChild(t *testing.T, p, mode string, attr ...*syscall.SysProcAttr) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	var extra []*os.File
	for i := 0; i < 4; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		extra = append(extra, r)
	}
	cmd := &exec.Cmd{Path: p, Args: []string{"exeseal.test"}, Env: []string{childEnv + "=" + mode}, ExtraFiles: extra, Stderr: os.Stderr}
	if len(attr) > 0 {
		cmd.SysProcAttr = attr[0]
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p, err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child did not start: %q %v", line, err)
	}
	return cmd, stdin
}

func open(t *testing.T, m Method, f func(string) (*Exe, error)) *Exe {
	t.Helper()
	e, err := f("/proc/self/exe")
	if err != nil {
		t.Fatalf("seal with %s: %v", m, err)
	}
	t.Cleanup(func() { e.Close() })
	if e.Method() != m {
		t.Fatalf("method %s, want %s", e.Method(), m)
	}
	if fd := int(e.File().Fd()); fd < minFd {
		t.Fatalf("sealed fd %d < %d", fd, minFd)
	}
	return e
}

// TestHostileWrite does what a container process does in CVE-2019-5736:
// open its init's /proc/PID/exe for writing while the init runs, and keep an
// O_PATH handle on it to reopen for writing once the init has gone.
func TestHostileWrite(t *testing.T) {
	testns.RequireRoot(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before := sha(t, self)
	var selfSt unix.Stat_t
	if err := unix.Stat(self, &selfSt); err != nil {
		t.Fatal(err)
	}
	// The control: started from /proc/self/exe as today, the child's exe
	// is the host's file itself (only ETXTBSY guards it, while it runs).
	t.Run("unsealed", func(t *testing.T) {
		cmd, _ := startChild(t, "/proc/self/exe", "sleep")
		var st unix.Stat_t
		if err := unix.Stat("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/exe", &st); err != nil {
			t.Fatal(err)
		}
		if st.Dev != selfSt.Dev || st.Ino != selfSt.Ino {
			t.Fatal("an unsealed child's exe is not the host's file: the test proves nothing")
		}
	})
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			e := open(t, m.method, m.open)
			cmd, stdin := startChild(t, e.Path(), "sleep")
			exe := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe"

			// The child's exe is not the file on the host's disk.
			var st unix.Stat_t
			if err := unix.Stat(exe, &st); err != nil {
				t.Fatal(err)
			}
			if st.Dev == selfSt.Dev && st.Ino == selfSt.Ino {
				t.Fatalf("%s is the host's %s", exe, self)
			}

			// While it runs. Overlay: the superblock is read-only
			// (EROFS), checked before the running-binary lock. Memfd:
			// the running binary's lock (ETXTBSY) comes first.
			want := map[Method]error{Overlay: unix.EROFS, Memfd: unix.ETXTBSY}[m.method]
			fd, err := unix.Open(exe, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
				t.Fatalf("open %s O_WRONLY succeeded", exe)
			}
			if !errors.Is(err, want) {
				t.Fatalf("open %s O_WRONLY: %v, want %v", exe, err, want)
			}

			// After it has gone, through a handle kept on it.
			opath, err := unix.Open(exe, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(opath)
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			e.Close() // the runtime is done with it too
			fd, err = unix.Open("/proc/self/fd/"+strconv.Itoa(opath), unix.O_WRONLY|unix.O_CLOEXEC, 0)
			switch m.method {
			case Overlay:
				if !errors.Is(err, unix.EROFS) {
					if err == nil {
						unix.Close(fd)
					}
					t.Fatalf("reopen for writing after exit: %v, want EROFS", err)
				}
			case Memfd:
				// Opening works (it is our own copy, not the host's
				// file); every write is refused by the seals.
				if err != nil {
					t.Fatalf("reopen the memfd for writing: %v", err)
				}
				_, werr := unix.Write(fd, []byte{0})
				_, perr := unix.Pwrite(fd, []byte{0}, 0)
				terr := unix.Ftruncate(fd, 0)
				unix.Close(fd)
				for _, err := range []error{werr, perr, terr} {
					if !errors.Is(err, unix.EPERM) {
						t.Fatalf("write/pwrite/ftruncate of the sealed memfd: %v %v %v, want EPERM", werr, perr, terr)
					}
				}
			}
			if sha(t, self) != before {
				t.Fatalf("%s changed", self)
			}
		})
	}
}

// TestOverlayNoRemount: the overlay cannot be made writable the way a
// read-only bind mount can (why runc dropped its bind mounts in 1.1.x):
// nothing inside can reach its mount (no clone of it, no mount_setattr on
// it), and even a writable mount of such an overlay refuses writes.
func TestOverlayNoRemount(t *testing.T) {
	testns.RequireRoot(t)
	e := open(t, Overlay, OpenOverlay)
	cmd, _ := startChild(t, e.Path(), "sleep")
	exe := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe"
	if tree, err := unix.OpenTree(unix.AT_FDCWD, exe, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC); err == nil {
		unix.Close(tree)
		t.Fatalf("open_tree(OPEN_TREE_CLONE) of %s succeeded", exe)
	}
	opath, err := unix.Open(exe, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(opath)
	err = unix.MountSetattr(opath, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY})
	if err == nil {
		t.Fatalf("mount_setattr clearing RDONLY on %s succeeded", exe)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(opath, &sfs); err != nil {
		t.Fatal(err)
	}
	if sfs.Type != unix.OVERLAYFS_SUPER_MAGIC || sfs.Flags&unix.ST_RDONLY == 0 {
		t.Fatalf("%s: statfs type %#x flags %#x, want a read-only overlay", exe, sfs.Type, sfs.Flags)
	}

	// The same overlay of the test binary's directory, mounted read-write
	// on purpose: still EROFS, because it has no upper layer.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, name := filepath.Split(self)
	mnt, err := overlay(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		t.Fatal("a writable mount of the overlay opened the binary for writing")
	}
	if !errors.Is(err, unix.EROFS) {
		t.Fatalf("open for writing in a writable mount of the overlay: %v, want EROFS", err)
	}
}

// TestInitNamespaces starts the sealed binary as container/process.go starts
// the init: cloned into new namespaces, /proc/self/fd/N is resolved by the
// child (host procfs, host pid) before its exec.
func TestInitNamespaces(t *testing.T) {
	testns.RequireRoot(t)
	e, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	flags := uintptr(unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET)
	cmd, _ := startChild(t, e.Path(), "sleep", &syscall.SysProcAttr{Cloneflags: flags})
	exe := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe"
	fd, err := unix.Open(exe, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		t.Fatalf("open %s O_WRONLY succeeded", exe)
	}
	if !errors.Is(err, unix.EROFS) {
		t.Fatalf("open %s O_WRONLY: %v, want EROFS", exe, err)
	}
}

func TestSeals(t *testing.T) {
	testns.RequireRoot(t)
	e := open(t, Memfd, OpenMemfd)
	seals, err := unix.FcntlInt(e.File().Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := Seals | unix.F_SEAL_EXEC; seals&want != want {
		t.Fatalf("seals %#x, want %#x", seals, want)
	}
	if !IsSealed(e.File()) {
		t.Fatal("IsSealed false")
	}
	// The child's /proc/PID/exe is that memfd, same content as the binary.
	cmd, _ := startChild(t, e.Path(), "sleep")
	exe, err := os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	if !IsSealed(exe) {
		t.Fatal("the child's exe is not a sealed memfd")
	}
	got, err := io.ReadAll(exe)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the sealed copy differs from the binary")
	}
	// The binary on disk is no memfd.
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if IsSealed(self) {
		t.Fatal("IsSealed true for the binary on disk")
	}
}

// TestOpen: as root on a kernel with fd-given overlay layers, Open seals by
// overlay (the cheaper way, see the package doc).
func TestOpen(t *testing.T) {
	testns.RequireRoot(t)
	e, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Method() != Overlay {
		t.Fatalf("Open sealed by %s, want %s", e.Method(), Overlay)
	}
}

// benchBin is the binary BenchmarkOpen seals: EXESEAL_BENCH_BIN (e.g. a
// `make build` mydocker, 8 MB) or the test binary.
func benchBin(b *testing.B) string {
	if p := os.Getenv("EXESEAL_BENCH_BIN"); p != "" {
		return p
	}
	return "/proc/self/exe"
}

func BenchmarkOpen(b *testing.B) {
	testns.RequireRoot(b)
	bin := benchBin(b)
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d bytes", bin, st.Size())
	for _, m := range methods {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				e, err := m.open(bin)
				if err != nil {
					b.Fatal(err)
				}
				e.Close()
			}
		})
	}
}

// BenchmarkStart is Open plus one start of a `true` (the test binary, which
// exits in TestMain) from the sealed file, and the same start from
// /proc/self/exe as today.
func BenchmarkStart(b *testing.B) {
	testns.RequireRoot(b)
	run := func(b *testing.B, path string) {
		cmd := &exec.Cmd{Path: path, Args: []string{"exeseal.test"}, Env: []string{childEnv + "=exit"}}
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("unsealed", func(b *testing.B) {
		for b.Loop() {
			run(b, "/proc/self/exe")
		}
	})
	// Open once, start many: what the exec through the sealed file costs,
	// apart from sealing it.
	for _, m := range methods {
		b.Run(m.name+"-exec-only", func(b *testing.B) {
			e, err := m.open("/proc/self/exe")
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			for b.Loop() {
				run(b, e.Path())
			}
		})
	}
	for _, m := range methods {
		b.Run(m.name, func(b *testing.B) {
			var open, close time.Duration
			for b.Loop() {
				t0 := time.Now()
				e, err := m.open("/proc/self/exe")
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				run(b, e.Path())
				t2 := time.Now()
				e.Close()
				close += time.Since(t2)
				open += t1.Sub(t0)
			}
			b.ReportMetric(float64(open.Microseconds())/float64(b.N), "open-µs/op")
			b.ReportMetric(float64(close.Microseconds())/float64(b.N), "close-µs/op")
		})
	}
}
