package test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// Volumes and cp as a docker user meets them: named volumes that outlive
// their containers, anonymous ones that go with rm -v and --rm, --mount,
// and cp both ways on running and stopped containers.

// quiet runs mydocker at --log-level warn and returns its stdout.
func (e *env) quiet(args ...string) string {
	e.t.Helper()
	return e.ok(append([]string{"--log-level", "warn"}, args...)...)
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func (e *env) volumeNames() []string {
	e.t.Helper()
	return strings.Fields(e.quiet("volume", "ls", "-q"))
}

func TestVolumePersistsAcrossContainers(t *testing.T) {
	e := newEnv(t)
	if out := e.quiet("volume", "create", "data", "-l", "team=db"); out != "data\n" {
		t.Fatalf("volume create data: %q", out)
	}
	e.quiet("run", "--rm", "--net", "none", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	if out := e.quiet("run", "--rm", "--net", "none", "-v", "data:/srv:ro", "busybox", "cat", "/srv/f"); out != "kept\n" {
		t.Fatalf("a second container reads %q from the volume", out)
	}
	// Made on first use, as docker's.
	e.quiet("run", "--rm", "--net", "none", "-v", "fresh:/x", "busybox", "touch", "/x/y")
	if got := strings.Join(e.volumeNames(), " "); got != "data fresh" {
		t.Fatalf("volume ls -q: %q", got)
	}
	if out := e.quiet("volume", "ls"); !strings.HasPrefix(out, "DRIVER") || !strings.Contains(out, "local") {
		t.Errorf("volume ls:\n%s", out)
	}
	if out := e.quiet("volume", "ls", "-q", "--filter", "label=team=db"); out != "data\n" {
		t.Errorf("volume ls --filter label=team=db: %q", out)
	}
	if out := e.quiet("volume", "ls", "--format", "{{.Name}}:{{.Driver}}:{{.Labels}}", "--filter", "name=dat"); out != "data:local:team=db\n" {
		t.Errorf("volume ls --format: %q", out)
	}
	var insp []struct {
		Name, Driver, Mountpoint, Scope, CreatedAt string
		Labels                                     map[string]string
		Options                                    map[string]string
	}
	if err := json.Unmarshal([]byte(e.quiet("volume", "inspect", "data")), &insp); err != nil || len(insp) != 1 {
		t.Fatalf("volume inspect: %v", err)
	}
	v := insp[0]
	if v.Name != "data" || v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "db" || v.CreatedAt == "" ||
		v.Mountpoint != filepath.Join(e.dataRoot, "volumes", "data", "_data") {
		t.Errorf("volume inspect: %+v", v)
	}
	if b, err := os.ReadFile(filepath.Join(v.Mountpoint, "f")); err != nil || string(b) != "kept\n" {
		t.Errorf("the volume's data on the host: %q, %v", b, err)
	}
	if out := e.quiet("volume", "inspect", "-f", "{{.Name}} {{.Mountpoint}}", "data"); out != "data "+v.Mountpoint+"\n" {
		t.Errorf("volume inspect -f: %q", out)
	}
	// A name without one: 64 hex characters.
	if name := strings.TrimSpace(e.quiet("volume", "create")); len(name) != 64 {
		t.Errorf("volume create without a name made %q", name)
	}
	e.fails(`"x" includes invalid characters for a local volume name`, "volume", "create", "x")
	e.fails("no such volume", "volume", "inspect", "nothing")
}

func TestVolumeInUseCannotBeRemoved(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.quiet("run", "-d", "--net", "none", "--name", "user", "-v", "data:/data", "busybox", "true"))
	e.quiet("wait", "user") // stopped: still a user of the volume, as docker's
	r := e.fails("remove data: volume is in use - ["+id+"]", "volume", "rm", "data")
	if r.code != 125 || r.stdout != "" {
		t.Errorf("volume rm of a volume in use: exit %d, stdout %q", r.code, r.stdout)
	}
	e.quiet("volume", "prune", "-f", "-a") // a prune passes it by
	if got := e.volumeNames(); len(got) != 1 {
		t.Fatalf("volume prune -a removed a volume in use: %v", got)
	}
	e.quiet("rm", "user")
	if out := e.quiet("volume", "rm", "data"); out != "data\n" {
		t.Errorf("volume rm data: %q", out)
	}
	if got := e.volumeNames(); len(got) != 0 {
		t.Errorf("volume rm left %v", got)
	}
	if _, err := os.Stat(filepath.Join(e.dataRoot, "volumes", "data")); !os.IsNotExist(err) {
		t.Errorf("the volume's directory is left: %v", err)
	}
	e.fails("no such volume", "volume", "rm", "data")
	e.quiet("volume", "rm", "-f", "data") // -f: gone is fine
}

func TestAnonymousVolumes(t *testing.T) {
	e := newEnv(t)
	e.quiet("volume", "create", "named")
	e.quiet("run", "--net", "none", "--name", "a", "-v", "/scratch", "busybox", "touch", "/scratch/x")
	anon := e.volumeNames()
	if len(anon) != 2 {
		t.Fatalf("after run -v /scratch: %v", anon)
	}
	if out := e.quiet("volume", "ls", "-q", "--filter", "label=com.docker.volume.anonymous"); len(strings.TrimSpace(out)) != 64 {
		t.Errorf("the anonymous volume is not labelled as docker's: %q", out)
	}
	e.quiet("rm", "-v", "a")
	if got := e.volumeNames(); strings.Join(got, " ") != "named" {
		t.Errorf("rm -v left %v", got)
	}
	e.quiet("run", "--rm", "--net", "none", "-v", "/scratch", "--mount", "type=volume,target=/other", "busybox", "true")
	if got := e.volumeNames(); strings.Join(got, " ") != "named" {
		t.Errorf("run --rm left %v", got)
	}
	// rm without -v keeps it, dangling: prune takes the anonymous ones
	// only, prune -a the named ones too (docker ≥ 23).
	e.quiet("run", "--net", "none", "--name", "b", "-v", "/scratch", "busybox", "true")
	e.quiet("rm", "b")
	if got := e.volumeNames(); len(got) != 2 {
		t.Fatalf("rm without -v: %v", got)
	}
	if out := e.quiet("volume", "ls", "-q", "--filter", "dangling=true"); len(strings.Fields(out)) != 2 {
		t.Errorf("volume ls --filter dangling=true: %q", out)
	}
	if out := e.quiet("volume", "prune", "-f"); !strings.HasPrefix(out, "Deleted Volumes:\n") || strings.Contains(out, "named") {
		t.Errorf("volume prune -f:\n%s", out)
	}
	if got := e.volumeNames(); strings.Join(got, " ") != "named" {
		t.Errorf("volume prune -f left %v", got)
	}
	e.quiet("volume", "prune", "-f", "-a")
	if got := e.volumeNames(); len(got) != 0 {
		t.Errorf("volume prune -f -a left %v", got)
	}
	// system df counts them; system prune --volumes takes the anonymous.
	e.quiet("volume", "create", "kept")
	e.quiet("run", "--net", "none", "--name", "c", "-v", "/scratch", "busybox", "sh", "-c", "echo 12345 > /scratch/f")
	if out := e.quiet("system", "df"); !regexpMatch(`Local Volumes\s+2\s+1\s+6B`, out) {
		t.Errorf("system df:\n%s", out)
	}
	if out := e.quiet("system", "prune", "-f", "--volumes"); !strings.Contains(out, "Deleted Volumes:") {
		t.Errorf("system prune --volumes:\n%s", out)
	}
	if got := e.volumeNames(); strings.Join(got, " ") != "kept" {
		t.Errorf("system prune --volumes left %v", got)
	}
}

func TestMountFlagAndReadOnly(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "f"), []byte("from the host\n"), 0o644)
	out := e.quiet("run", "--rm", "--net", "none",
		"--mount", "type=bind,source="+host+",target=/b,readonly",
		"--mount", "type=volume,source=vol,target=/v,readonly",
		"--mount", "type=tmpfs,target=/t,tmpfs-size=1m",
		"-v", host+":/rw",
		"busybox", "sh", "-c", `cat /b/f
for d in /b /v; do touch $d/new 2>&1 || echo "$d refused"; done
touch /rw/new && echo rw written
touch /t/x && echo tmpfs written
df -k /t | tail -1`)
	for _, want := range []string{"from the host", "touch: /b/new: Read-only file system", "/b refused",
		"touch: /v/new: Read-only file system", "/v refused", "rw written", "tmpfs written"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !regexpMatch(`tmpfs\s+1024\s`, out) {
		t.Errorf("the tmpfs is not 1m (tmpfs-size=1m):\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(host, "new")); err != nil {
		t.Errorf("-v HOST:/rw wrote nothing on the host: %v", err)
	}
	out = e.quiet("run", "--rm", "--net", "none", "--mount", "type=tmpfs,dst=/t,readonly", "busybox", "sh", "-c", "touch /t/x 2>&1; true")
	if !strings.Contains(out, "Read-only file system") {
		t.Errorf("a readonly tmpfs took a write: %q", out)
	}
	// docker's errors, before anything exists.
	for _, tc := range []struct{ mount, want string }{
		{"type=volume,source=v", `invalid argument "type=volume,source=v" for "--mount" flag: target is required`},
		{"type=bind,source=" + host + "/missing,target=/x", `invalid mount config for type "bind": bind source path does not exist: ` + host + "/missing"},
		{"type=tmpfs,source=x,target=/x", `invalid mount config for type "tmpfs": field Source must not be specified`},
		{"type=nfs,target=/x", `invalid mount config for type "nfs": mount type unknown`},
	} {
		if r := e.fails(tc.want, "run", "--rm", "--net", "none", "--mount", tc.mount, "busybox", "true"); r.code != 125 {
			t.Errorf("--mount %s: exit %d", tc.mount, r.code)
		}
	}
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("refused runs left %v", left)
	}
	e.fails("duplicate mount point: /x", "run", "--rm", "--net", "none", "-v", "a1:/x", "--mount", "type=tmpfs,dst=/x", "busybox", "true")
}

func TestInspectMounts(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	e.quiet("run", "--net", "none", "--name", "m", "-v", host+":/h:ro", "-v", "named:/n", "--mount", "type=tmpfs,dst=/t", "busybox", "true")
	type mount struct {
		Type, Name, Source, Destination, Driver, Mode, Propagation string
		RW                                                         bool
	}
	var got []mount
	if err := json.Unmarshal([]byte(e.quiet("inspect", "-f", "{{json .Mounts}}", "m")), &got); err != nil {
		t.Fatal(err)
	}
	want := []mount{
		{Type: "bind", Source: host, Destination: "/h", Mode: "ro", RW: false, Propagation: "rprivate"},
		{Type: "volume", Name: "named", Source: filepath.Join(e.dataRoot, "volumes", "named", "_data"), Destination: "/n", Driver: "local", RW: true},
		{Type: "tmpfs", Destination: "/t", RW: true},
	}
	if len(got) != len(want) {
		t.Fatalf(".Mounts = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf(".Mounts[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestFreshVolumeGetsImageFiles(t *testing.T) {
	e := newEnv(t)
	out := e.quiet("run", "--rm", "--net", "none", "-v", "etc:/etc", "busybox", "cat", "/etc/passwd")
	if !strings.HasPrefix(out, "root:") {
		t.Fatalf("/etc/passwd in a fresh volume at /etc: %q", out)
	}
	data := filepath.Join(e.dataRoot, "volumes", "etc", "_data")
	if _, err := os.Stat(filepath.Join(data, "passwd")); err != nil {
		t.Errorf("the volume was not filled: %v", err)
	}
	// Not empty any more: never filled again (what the container removed stays removed).
	e.quiet("run", "--rm", "--net", "none", "-v", "etc:/etc", "busybox", "rm", "/etc/group")
	if out := e.quiet("run", "--rm", "--net", "none", "-v", "etc:/etc", "busybox", "ls", "/etc"); strings.Contains(out, "group") {
		t.Errorf("a used volume was filled again: %q", out)
	}
	// nocopy, as docker's.
	if out := e.quiet("run", "--rm", "--net", "none", "-v", "empty:/etc:nocopy", "busybox", "ls", "-A", "/etc"); strings.Contains(out, "passwd") {
		t.Errorf("-v NAME:/etc:nocopy filled the volume: %q", out)
	}
}

// tarNames lists the entries of a tar stream.
func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("a tar stream: %v", err)
		}
		out = append(out, h.Name)
	}
	sort.Strings(out)
	return out
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: int64(len(content)), Typeflag: tar.TypeReg, Uid: 1234, Gid: 4321})
		tw.Write([]byte(content))
	}
	tw.Close()
	return b.Bytes()
}

func TestCpRunningAndStopped(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	// A file on the host that a link in the container names: it must
	// never be what cp reads or writes.
	victim := filepath.Join(host, "victim")
	os.WriteFile(victim, []byte("the host's\n"), 0o644)
	e.quiet("run", "-d", "--net", "none", "--name", "c", "-v", "vol:/vol", "busybox", "sh", "-c",
		"mkdir -p /d/sub && echo inner > /d/sub/f && ln -s /etc/passwd /pw && ln -s "+victim+" /esc && echo v > /vol/in && touch /ready && sleep 1000")
	waitFor(t, "the container's files", func() bool { return e.run("exec", "c", "test", "-e", "/ready").code == 0 })
	// The host's /etc/passwd, in this test's mount namespace, is a copy:
	// were cp to write through the container's link to the host's, it
	// would write the copy, and say so.
	hostPasswd := filepath.Join(host, "passwd-of-the-host")
	os.WriteFile(hostPasswd, []byte("the host's passwd\n"), 0o644)
	if err := syscall.Mount(hostPasswd, "/etc/passwd", "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount("/etc/passwd", syscall.MNT_DETACH) })
	wantPasswd := "root:x:0:0:root:/root:/bin/sh\n"
	for _, state := range []string{"running", "stopped"} {
		out := filepath.Join(host, state)
		os.Mkdir(out, 0o755)
		// Out: a file, a directory (into an existing one, and its contents
		// only with /.), a file in a volume, a link followed with -L.
		e.quiet("cp", "c:/d/sub/f", out+"/f")
		e.quiet("cp", "c:/d", out)
		e.quiet("cp", "c:/d/.", out+"/contents")
		e.quiet("cp", "c:/vol/in", out)
		e.quiet("cp", "-L", "c:/pw", out+"/pw")
		e.quiet("cp", "c:/pw", out+"/pwlink")
		for path, want := range map[string]string{"f": "inner\n", "d/sub/f": "inner\n", "contents/sub/f": "inner\n", "in": "v\n"} {
			if b, err := os.ReadFile(filepath.Join(out, path)); err != nil || string(b) != want {
				t.Errorf("%s: cp out to %s: %q, %v", state, path, b, err)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(out, "pw")); !strings.HasPrefix(string(b), wantPasswd) {
			t.Errorf("%s: cp -L of a link to /etc/passwd read %q: not the container's /etc/passwd", state, b)
		}
		// Into the link: the container's /etc/passwd, as docker follows it.
		os.WriteFile(filepath.Join(host, "pw-"+state), []byte("through the link, "+state+"\n"), 0o644)
		e.quiet("cp", filepath.Join(host, "pw-"+state), "c:/pw")
		wantPasswd = "through the link, " + state + "\n"
		if r := e.run("--log-level", "warn", "cp", "c:/etc/passwd", "-"); !strings.Contains(r.stdout, wantPasswd) {
			t.Errorf("%s: cp into a link to /etc/passwd did not write the container's /etc/passwd", state)
		}
		if b, _ := os.ReadFile("/etc/passwd"); string(b) != "the host's passwd\n" {
			t.Fatalf("%s: cp into a link to /etc/passwd wrote the host's: %q", state, b)
		}
		if l, err := os.Readlink(filepath.Join(out, "pwlink")); err != nil || l != "/etc/passwd" {
			t.Errorf("%s: cp of a link without -L: %q, %v", state, l, err)
		}
		// A tar stream out.
		r := e.run("--log-level", "warn", "cp", "c:/d", "-")
		if got := strings.Join(tarNames(t, []byte(r.stdout)), " "); r.code != 0 || !strings.HasPrefix(got, "d/ ") || !strings.HasSuffix(got, " d/sub/ d/sub/f") {
			t.Errorf("%s: cp c:/d - : exit %d, entries %q", state, r.code, got)
		}
		// In: a file into a directory, a directory under a new name, a tar stream.
		os.WriteFile(filepath.Join(host, "in-"+state), []byte(state+"\n"), 0o600)
		e.quiet("cp", filepath.Join(host, "in-"+state), "c:/d/")
		e.quiet("cp", out+"/d", "c:/copied-"+state)
		if r := e.runIn(tarOf(t, map[string]string{"t-" + state: "tarred\n"}), "--log-level", "warn", "cp", "-", "c:/vol"); r.code != 0 {
			t.Errorf("%s: cp - c:/vol: %s", state, r.stderr)
		}
		// Through links in the container: the container's, never the host's.
		os.WriteFile(filepath.Join(host, "evil"), []byte("written\n"), 0o644)
		e.quiet("cp", filepath.Join(host, "evil"), "c:/esc")
		e.quiet("cp", "-L", "c:/esc", out+"/esc-L") // the link's target is not in the container
		if b, _ := os.ReadFile(victim); string(b) != "the host's\n" {
			t.Fatalf("%s: cp through a link in the container wrote the host's file: %q", state, b)
		}
		if b, _ := os.ReadFile(out + "/esc-L"); string(b) != "written\n" {
			t.Errorf("%s: cp -L c:/esc read %q, not the container's file", state, b)
		}
		e.fails("could not find the file /nothing in container c", "cp", "c:/nothing", out)
		e.fails("destination directory /no/ must exist", "cp", filepath.Join(host, "evil"), "c:/no/")
		e.fails("cannot copy a directory to a file", "cp", out+"/d", "c:/d/sub/f")
		if state == "running" {
			e.quiet("stop", "-t", "0", "c")
		}
	}
	// What was copied in: in the container's layer, and in its volume as
	// another container sees it.
	id := strings.TrimSpace(e.quiet("inspect", "-f", "{{.Id}}", "c"))
	upper := filepath.Join(e.dataRoot, "containers", id, "upper")
	for path, want := range map[string]string{"d/in-running": "running\n", "d/in-stopped": "stopped\n",
		"copied-running/sub/f": "inner\n", "copied-stopped/sub/f": "inner\n", "esc": "written\n"} {
		if b, err := os.ReadFile(filepath.Join(upper, path)); err != nil || string(b) != want {
			t.Errorf("copied in to /%s: %q, %v", path, b, err)
		}
	}
	if fi, err := os.Lstat(filepath.Join(upper, "d/in-stopped")); err != nil || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("cp in keeps the mode and gives the file to root: %v, %v", fi.Mode(), err)
	}
	out := e.quiet("run", "--rm", "--net", "none", "-v", "vol:/vol", "busybox", "sh", "-c", "cat /vol/t-running /vol/t-stopped; stat -c '%u:%g %a' /vol/t-running")
	if out != "tarred\ntarred\n0:0 640\n" {
		t.Errorf("the volume, seen by another container:\n%s", out)
	}
	// -a keeps the archive's owners, both ways.
	e.runIn(tarOf(t, map[string]string{"owned": "x"}), "--log-level", "warn", "cp", "-a", "-", "c:/vol")
	if out := e.quiet("run", "--rm", "--net", "none", "-v", "vol:/vol", "busybox", "stat", "-c", "%u:%g", "/vol/owned"); out != "1234:4321\n" {
		t.Errorf("cp -a - c:/vol: owner %q", out)
	}
	e.quiet("cp", "c:/vol/owned", host+"/owned-plain")
	e.quiet("cp", "-a", "c:/vol/owned", host+"/owned-a")
	for name, want := range map[string]uint32{"owned-plain": uint32(os.Getuid()), "owned-a": 1234} {
		fi, err := os.Stat(filepath.Join(host, name))
		if err != nil {
			t.Errorf("cp out %s: %v", name, err)
		} else if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != want {
			t.Errorf("cp out %s: uid %d, want %d", name, uid, want)
		}
	}
	// cp of a stopped container leaves no mount behind.
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), e.dataRoot) {
		t.Errorf("a mount under the data root is left:\n%s", b)
	}
}

// An image of layers: a fresh volume is filled from the layers' merged
// view, and cp of the stopped container mounts them as run does.
func TestVolumeAndCpOnAPulledImage(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	ref := reg + "/app:v1"
	imagetest.Push(t, ref, imagetest.App(t, "1"))
	e.quiet("pull", ref)
	out := e.quiet("run", "--net", "none", "--name", "a", "-u", "0", "-v", "appvol:/app", ref, "cat /app/version; echo 2 > /app/version")
	if out != "1\n" {
		t.Fatalf("a fresh volume at /app: %q, want the image's version", out)
	}
	// The layers' /data (a directory a layer made opaque, holding "new"),
	// and /etc/motd, which a layer deleted.
	r := e.run("--log-level", "warn", "cp", "a:/data", "-")
	if names := strings.Join(tarNames(t, []byte(r.stdout)), " "); r.code != 0 || names != "data/ data/new" {
		t.Errorf("cp a:/data - of the stopped container: exit %d, %v, %s", r.code, names, r.stderr)
	}
	e.fails("could not find the file /etc/motd in container a", "cp", "a:/etc/motd", "-")
	host := t.TempDir()
	e.quiet("cp", "a:/app/version", host)
	if b, _ := os.ReadFile(filepath.Join(host, "version")); string(b) != "2\n" {
		t.Errorf("cp out of the stopped container's volume: %q", b)
	}
}
