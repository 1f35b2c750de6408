package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/testns"
)

// crashEnv is one mydocker installation for the crash tests: fresh --root
// and --data-root, and network and mount namespaces of its own (those of a
// holder process), so that a kill point whose damage no command repairs is
// thrown away whole (reset) and does not spoil the next one. The kill
// switch is the crashtest build's (internal/kernel/crash_on.go).
type crashEnv struct {
	t                   *testing.T
	dir, root, dataRoot string
	holder              *exec.Cmd
	killLog             string
	ids                 map[string]bool // every container id seen under the roots
	sleepers            []*exec.Cmd     // netsetgo's "containers"
	pid                 int             // the last sleeper's pid, for "$PID" in args
	closed              bool
}

func newCrashEnv(t *testing.T) *crashEnv {
	t.Helper()
	testns.RequireRoot(t)
	dir := t.TempDir()
	x := &crashEnv{t: t, dir: dir, root: filepath.Join(dir, "run"), dataRoot: filepath.Join(dir, "lib"),
		killLog: filepath.Join(dir, "kill.log"), ids: map[string]bool{}}
	x.holder = exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sleep", "1000000")
	if err := x.holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.close) // also when a Fatal stops the test half way
	waitOwnNetns(t, x.holder.Process.Pid)
	x.in("ip", "link", "set", "lo", "up")
	return x
}

// close ends what the env started or leaked (by pid: the holder, the
// sleepers, mydocker's processes and containers under its roots) and
// removes the cgroups of its containers; the namespaces go with the holder.
// Closing twice is closing once.
func (x *crashEnv) close() {
	if x.closed {
		return
	}
	x.closed = true
	for _, p := range x.procs() {
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
	for _, c := range append(x.sleepers, x.holder) {
		c.Process.Kill()
		c.Wait()
	}
	x.sleepers = nil
	for id := range x.ids {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mydocker/" + id)
		dirs = append(dirs, "/sys/fs/cgroup/mydocker/"+id)
		for _, d := range dirs {
			for i := 0; i < 50; i++ { // its processes, just killed, leave it a moment later
				if err := syscall.Rmdir(d); err == nil || os.IsNotExist(err) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// in runs a command in the env's namespaces and returns its output; it
// fails the test if the command fails.
func (x *crashEnv) in(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(x.holder.Process.Pid), "-n", "-m", "--"}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// md runs mydocker in the env's namespaces with its roots; kill, if set,
// arms the switch ("<verb>:<N>"). "$PID" in args is the last sleeper's
// pid. A killed mydocker has code -1. It never waits more than a minute.
func (x *crashEnv) md(kill string, args ...string) result {
	x.t.Helper()
	args = append([]string(nil), args...) // the caller's, shared between runs
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "$PID", strconv.Itoa(x.pid))
	}
	argv := append([]string{"-t", strconv.Itoa(x.holder.Process.Pid), "-n", "-m", "--", binary,
		"--root", x.root, "--data-root", x.dataRoot}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", argv...)
	cmd.Env = append(os.Environ(), "MYDOCKER_TEST_KILL="+kill, "MYDOCKER_TEST_KILL_LOG="+x.killLog)
	// A killed run's children may hold its output open: stop reading.
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil && err != exec.ErrWaitDelay {
		x.t.Fatalf("mydocker %v: %v", args, err)
	}
	if ctx.Err() != nil {
		x.t.Fatalf("mydocker %v: timed out; stderr:\n%s", args, errb.String())
	}
	x.collectIDs()
	return result{out.String(), errb.String(), code}
}

// mustMd runs mydocker and fails the test unless it exits 0.
func (x *crashEnv) mustMd(args ...string) string {
	x.t.Helper()
	r := x.md("", args...)
	if r.code != 0 {
		x.t.Fatalf("mydocker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, tail(r.stderr, 10))
	}
	return r.stdout
}

// sleeper starts a process in a network namespace of its own inside the
// env's, as netsetgo's users do; "$PID" in md's args stands for it.
func (x *crashEnv) sleeper() {
	x.t.Helper()
	c := exec.Command("nsenter", "-t", strconv.Itoa(x.holder.Process.Pid), "-n", "-m", "--", "unshare", "--net", "sleep", "1000000")
	if err := c.Start(); err != nil {
		x.t.Fatal(err)
	}
	x.sleepers = append(x.sleepers, c)
	x.pid = c.Process.Pid
	waitOwnNetns(x.t, x.pid)
	// netsetgo brings lo up, and cleanup leaves it so: up from the start.
	x.in("nsenter", "-t", strconv.Itoa(x.pid), "-n", "ip", "link", "set", "lo", "up")
}

// killLine is what the switch said it killed since clearKill ("" if
// nothing: the operation ran to its end).
func (x *crashEnv) killLine() string {
	b, _ := os.ReadFile(x.killLog)
	return strings.TrimSpace(string(b))
}

func (x *crashEnv) clearKill() { os.Remove(x.killLog) }

func (x *crashEnv) collectIDs() {
	for _, d := range []string{filepath.Join(x.root, "containers"), filepath.Join(x.dataRoot, "containers")} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if idRE.MatchString(e.Name()) {
				x.ids[e.Name()] = true
			}
		}
	}
}

var idRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// proc is a process that belongs to the env: mydocker (its command line
// names the env's root) or a container (its mounts name the data root).
type proc struct {
	pid, ppid int
	desc      string
}

func (x *crashEnv) procs() []proc {
	var out []proc
	selfPid, _ := os.Readlink("/proc/self/ns/pid")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(cmdline) == 0 { // gone, or a zombie: holds nothing
			continue
		}
		args := strings.Fields(strings.ReplaceAll(string(cmdline), "\x00", " "))
		desc := ""
		if strings.Contains(string(cmdline), x.root) && len(args) > 0 && filepath.Base(args[0]) == "mydocker" {
			desc = "mydocker " + verbOf(args[1:])
		} else if ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); ns != "" && ns != selfPid {
			if mi, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid)); bytes.Contains(mi, []byte(x.dataRoot)) {
				desc = "container " + strings.Join(args, " ")
			}
		}
		if desc == "" {
			continue
		}
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		ppid := 0
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
				ppid, _ = strconv.Atoi(f[1])
			}
		}
		out = append(out, proc{pid, ppid, desc})
	}
	return out
}

// verbOf is a mydocker command line without its global flags.
func verbOf(args []string) string {
	for len(args) > 1 && strings.HasPrefix(args[0], "--") && !strings.Contains(args[0], "=") {
		args = args[2:]
	}
	return strings.Join(args, " ")
}

// settle waits (3 s at most) until no mydocker process of the env is at
// work: what is left is a shim with its container, or a leak the snapshot
// shows.
func (x *crashEnv) settle() {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ps := x.procs()
		busy := false
		for _, p := range ps {
			if !strings.HasPrefix(p.desc, "mydocker shim ") {
				busy = busy || strings.HasPrefix(p.desc, "mydocker ")
				continue
			}
			child := false
			for _, c := range ps {
				child = child || c.ppid == p.pid
			}
			busy = busy || !child
		}
		if !busy {
			return
		}
	}
}

// snapshot is the state a user would check, normalized: links, addresses,
// routes and iptables in the env's namespaces (and in the sleeper's and
// the live containers'), mydocker's files under the roots (the network
// files and the IPAM whole, without times and pids), mounts under the
// roots, the cgroups of the env's containers, their /etc/hosts, and its
// processes. Container ids read <ID>.
func (x *crashEnv) snapshot() string {
	x.t.Helper()
	x.collectIDs()
	var b strings.Builder
	section := func(name, body string, sorted bool) {
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if sorted {
			sort.Strings(lines)
		}
		for _, l := range lines {
			if l != "" {
				fmt.Fprintf(&b, "%s: %s\n", name, l)
			}
		}
	}
	section("link", normalizeLinks(x.in("ip", "-d", "-o", "link", "show")), true)
	section("addr", normalizeAddrs(x.in("ip", "-o", "addr", "show")), true)
	section("route", testns.NormalizeDump(x.in("ip", "route", "show")), true)
	section("iptables", testns.NormalizeDump(x.in("iptables-save")), false)
	for _, s := range x.sleepers {
		p := strconv.Itoa(s.Process.Pid)
		section("sleeper link", normalizeLinks(x.in("nsenter", "-t", p, "-n", "ip", "-d", "-o", "link", "show")), true)
		section("sleeper addr", normalizeAddrs(x.in("nsenter", "-t", p, "-n", "ip", "-o", "addr", "show")), true)
		section("sleeper route", testns.NormalizeDump(x.in("nsenter", "-t", p, "-n", "ip", "route", "show")), true)
	}
	for _, pid := range x.containerInits() { // as `exec c ip ...` would show
		p := strconv.Itoa(pid)
		section("container link", normalizeLinks(x.in("nsenter", "-t", p, "-n", "ip", "-d", "-o", "link", "show")), true)
		section("container addr", normalizeAddrs(x.in("nsenter", "-t", p, "-n", "ip", "-o", "addr", "show")), true)
		section("container route", testns.NormalizeDump(x.in("nsenter", "-t", p, "-n", "ip", "route", "show")), true)
	}
	section("file", x.files(), true)
	section("json", x.stateJSON(), false)
	hosts, _ := filepath.Glob(filepath.Join(x.root, "containers", "*", "hosts"))
	for _, h := range hosts {
		data, _ := os.ReadFile(h)
		section("hosts", string(data), false)
	}
	section("mount", x.mounts(), true)
	section("cgroup", x.cgroups(), true)
	var ps []string
	for _, p := range x.procs() {
		ps = append(ps, p.desc)
	}
	section("process", strings.Join(ps, "\n"), true)
	return x.normalizeIDs(b.String())
}

var (
	// Bridge details that vary: timers, ids derived from a MAC, port
	// numbers, and offload sizes (the smallest of its ports').
	bridgeVarRE = regexp.MustCompile(`\b(\w+_timer|bridge_id|designated_root|designated_bridge|designated_port|designated_cost|port_id|port_no|[gt]so_max_\w+|gro_max_\w+)\s+\S+`)
	linkLocalRE = regexp.MustCompile(`(?m)^.*inet6 fe80::.*$`)
	// A bridge's carrier and, once it has had ports, its MAC (all zeros
	// when the last port goes) follow its ports, not mydocker.
	carrierMACRE = regexp.MustCompile(`,LOWER_UP|link/ether 00:00:00:00:00:00`)
)

// normalizeLinks is NormalizeDump of `ip -d -o link`, one line per part of
// a link's details, plus what a bridge's details say that varies (timers,
// ids derived from a MAC, port numbers, carrier).
func normalizeLinks(s string) string {
	s = bridgeVarRE.ReplaceAllString(s, "$1 _")
	s = carrierMACRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == ",LOWER_UP" {
			return ""
		}
		return "link/ether <mac>"
	})
	var out []string
	for _, l := range strings.Split(testns.NormalizeDump(s), "\n") {
		parts := strings.Split(l, "\\")
		name, _, _ := strings.Cut(parts[0], " ")
		for i, p := range parts {
			if p = strings.TrimSpace(p); i > 0 && p != "" {
				p = name + " " + p
			}
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

// normalizeAddrs drops IPv6 link-local addresses (derived from random
// MACs; the link itself is in the link section).
func normalizeAddrs(s string) string {
	return testns.NormalizeDump(linkLocalRE.ReplaceAllString(s, ""))
}

// normalizeIDs writes <ID> for every container id of the env and for what
// is derived from one (its short id, a veth named from its first digits),
// and $DIR for the env's directory.
func (x *crashEnv) normalizeIDs(s string) string {
	s = strings.ReplaceAll(s, x.dir, "$DIR")
	var alts []string
	for id := range x.ids {
		alts = append(alts, id[:7])
	}
	if len(alts) == 0 {
		return s
	}
	return regexp.MustCompile(`(`+strings.Join(alts, "|")+`)[0-9a-f]*`).ReplaceAllString(s, "<ID>")
}

// files lists what is under the roots (lock files aside: they stay by
// design), with temp files; under a container's layer only its first two
// levels; the images not at all.
func (x *crashEnv) files() string {
	var out []string
	for _, top := range []string{x.root, x.dataRoot} {
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == top {
				return nil
			}
			rel, _ := filepath.Rel(x.dir, p)
			if rel == "lib/images" {
				return filepath.SkipDir
			}
			if name := d.Name(); name == "lock" || name == ".lock" || strings.HasSuffix(name, ".lock") {
				return nil
			}
			if d.IsDir() {
				rel += "/"
				if strings.HasPrefix(rel, "lib/containers/") && strings.Count(rel, "/") >= 4 {
					return filepath.SkipDir
				}
			}
			out = append(out, rel)
			return nil
		})
	}
	return strings.Join(out, "\n")
}

// containerInits are the env's live containers, one process each (one per
// network namespace).
func (x *crashEnv) containerInits() []int {
	var pids []int
	seen := map[string]bool{}
	for _, p := range x.procs() {
		if !strings.HasPrefix(p.desc, "container ") {
			continue
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p.pid))
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		pids = append(pids, p.pid)
	}
	return pids
}

// volatileKeys are state fields that differ between two identical runs.
var volatileKeys = map[string]bool{"Created": true, "Updated": true, "Started": true, "Finished": true, "Pid": true, "PidStart": true, "MonitorPid": true}

// stateJSON is every JSON file under <root>/network (the network files and
// the IPAM), indented, keys sorted, volatile keys dropped; a file that is
// not JSON is shown as such.
func (x *crashEnv) stateJSON() string {
	var out []string
	top := filepath.Join(x.root, "network")
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(d.Name(), "lock") {
			return nil
		}
		rel, _ := filepath.Rel(x.root, p)
		data, err := os.ReadFile(p)
		var v any
		if err == nil {
			err = json.Unmarshal(data, &v)
		}
		if err != nil {
			out = append(out, fmt.Sprintf("%s: not JSON (%v): %q", rel, err, tail(string(data), 1)))
			return nil
		}
		norm, _ := json.MarshalIndent(dropVolatile(v), "", " ")
		for _, l := range strings.Split(string(norm), "\n") {
			out = append(out, rel+": "+l)
		}
		return nil
	})
	return strings.Join(out, "\n")
}

func dropVolatile(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if volatileKeys[k] || strings.HasSuffix(k, "Time") {
				delete(v, k)
				continue
			}
			v[k] = dropVolatile(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropVolatile(e)
		}
	}
	return v
}

// mounts are the mounts in the env's mount namespace under its directory.
func (x *crashEnv) mounts() string {
	mi, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", x.holder.Process.Pid))
	var out []string
	for _, l := range strings.Split(string(mi), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || !strings.HasPrefix(f[4], x.dir) {
			continue
		}
		fstype := ""
		for i, w := range f {
			if w == "-" && i+1 < len(f) {
				fstype = f[i+1]
			}
		}
		out = append(out, f[4]+" "+fstype)
	}
	return strings.Join(out, "\n")
}

// cgroups are the cgroup directories of the env's containers.
func (x *crashEnv) cgroups() string {
	var out []string
	for id := range x.ids {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mydocker/" + id)
		if _, err := os.Stat("/sys/fs/cgroup/mydocker/" + id); err == nil {
			dirs = append(dirs, "/sys/fs/cgroup/mydocker/"+id)
		}
		out = append(out, dirs...)
	}
	return strings.Join(out, "\n")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
