package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/container/image/imagetest"
)

// The image verbs on the built binary, against a registry on 127.0.0.1 in
// this test's process (the binary runs in the same namespaces).
func TestImageVerbsWithARegistry(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	ref := reg + "/app:v1"

	r := e.run("pull", ref)
	if r.code != 0 || !strings.HasSuffix(r.stdout, ref+"\n") {
		t.Fatalf("pull: %d %s %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"$ curl -fsSL -H 'Accept: ", "http://" + reg + "/v2/app/manifests/v1", "sha256sum -c --quiet",
		"$ mkdir -p ", "tar --numeric-owner", "/etc/motd c 0 0", "setfattr -n trusted.overlay.opaque -v y"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("pull's narration lacks %q:\n%s", want, r.stderr)
		}
	}
	if out := e.ok("pull", "-q", ref); out != ref+"\n" {
		t.Errorf("pull -q: %q", out)
	}

	var insp []struct {
		Id          string
		RepoTags    []string
		RepoDigests []string
		Config      struct{ Env, Entrypoint, Cmd []string }
		RootFS      struct{ Layers []string }
	}
	if err := json.Unmarshal([]byte(e.ok("image", "inspect", ref)), &insp); err != nil || len(insp) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	id := insp[0].Id
	if len(insp[0].RootFS.Layers) != 3 || insp[0].Config.Env[1] != "FOO=bar" || insp[0].RepoTags[0] != ref ||
		!strings.HasPrefix(insp[0].RepoDigests[0], reg+"/app@sha256:") {
		t.Errorf("inspect: %+v", insp[0])
	}
	list := e.ok("images")
	if !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(reg+"/app")+` +v1 +`+id[7:19]+` +`).MatchString(list) || !strings.HasPrefix(list, "REPOSITORY") {
		t.Errorf("images:\n%s", list)
	}
	if out := e.ok("images", "--digests"); !strings.Contains(out, "DIGEST") || !strings.Contains(out, "sha256:") {
		t.Errorf("images --digests:\n%s", out)
	}
	if out := e.ok("images", "-q"); !strings.Contains(out, id[7:19]+"\n") {
		t.Errorf("images -q: %q", out)
	}

	// tag + push, and a pull of the new name elsewhere gives the same image.
	e.ok("tag", ref, reg+"/copy:v2")
	if out := e.ok("push", reg+"/copy:v2"); !strings.Contains(out, "digest: sha256:") {
		t.Errorf("push: %q", out)
	}
	other := newEnv(t)
	other.ok("pull", reg+"/copy:v2")
	if out := other.ok("images", "-q"); !strings.Contains(out, id[7:19]) {
		t.Errorf("the pushed image pulled back: %q, want %s", out, id[7:19])
	}

	// save, rmi, load (from a file and from stdin): the same id.
	tarball := filepath.Join(t.TempDir(), "app.tar")
	e.ok("save", "-o", tarball, ref)
	e.ok("rmi", ref)
	if out := e.ok("rmi", reg+"/copy:v2"); !strings.Contains(out, "Deleted: "+id) {
		t.Errorf("rmi of the last tag: %q", out)
	}
	if out := e.ok("images", "-q"); strings.Contains(out, id[7:19]) {
		t.Errorf("rmi left the image: %q", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dataRoot, "image", "layers")); len(ents) != 0 {
		t.Errorf("rmi left layers: %v", ents)
	}
	if out := e.ok("load", "-i", tarball); out != "Loaded image: "+ref+"\n" {
		t.Errorf("load: %q", out)
	}
	data, err := os.ReadFile(tarball)
	if err != nil {
		t.Fatal(err)
	}
	third := newEnv(t)
	if r := third.runIn(data, "load"); r.code != 0 || r.stdout != "Loaded image: "+ref+"\n" {
		t.Errorf("load from stdin: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if out := third.ok("images", "-q"); !strings.Contains(out, id[7:19]) {
		t.Errorf("the loaded image's id: %q, want %s", out, id[7:19])
	}
	e.ok("image", "rm", id)
	if out := e.ok("image", "prune"); out != "" {
		t.Errorf("image prune: %q", out)
	}

	// Bad input: one line, exit 125, nothing made.
	for want, args := range map[string][]string{
		"invalid reference":         {"pull", "Bad Ref!"},
		"the registry answered 404": {"pull", reg + "/app:nosuchtag"},
		"connection refused":        {"pull", "127.0.0.1:1/app:v1"},
		"no such image":             {"rmi", reg + "/nosuch:v1"},
		"not a tar archive":         {"load", "-i", "/etc/passwd"},
		"no such file or directory": {"load", "-i", "/nonexistent.tar"},
		"a tag, not a digest":       {"tag", id, reg + "/app@" + id},
	} {
		r := e.fails(want, args...)
		if r.code != 125 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q: want one line and 125", args, r.code, r.stderr)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dataRoot, "image", "images")); len(ents) != 0 {
		t.Errorf("bad input left records: %v", ents)
	}
}

// The built-in busybox and imported images still list, beside the store's.
func TestImagesListsFlatAndStoreImages(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--rm", "busybox", "true")
	out := e.ok("images")
	if !regexp.MustCompile(`(?m)^busybox +latest +- `).MatchString(out) {
		t.Errorf("images:\n%s", out)
	}
	if out := e.ok("images", "-q"); out != "busybox\n" {
		t.Errorf("images -q: %q", out)
	}
	var insp []struct{ RepoTags []string }
	if err := json.Unmarshal([]byte(e.ok("image", "inspect", "busybox")), &insp); err != nil || insp[0].RepoTags[0] != "busybox:latest" {
		t.Errorf("inspect busybox: %+v %v", insp, err)
	}
}

// A pull killed before each of its steps leaves no image (only verified
// blobs and whole layers); a retry completes it, and rmi then leaves
// nothing, not even a dead writer's temp file. An rmi killed before each
// of its steps is finished by `image prune`.
func TestPullAndRmiKilledAtEveryStep(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	ref := reg + "/app:v1"
	store := filepath.Join(e.dataRoot, "image")
	clean := func(when string) {
		t.Helper()
		var left []string
		filepath.WalkDir(store, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasSuffix(p, "/.lock") && !strings.HasSuffix(p, "repositories.json") {
				left = append(left, strings.TrimPrefix(p, store+"/"))
			}
			return nil
		})
		if len(left) > 0 {
			t.Fatalf("%s: the store still holds %v", when, left)
		}
	}
	for _, verb := range []string{"pull", "rmi"} {
		for n := 1; ; n++ {
			if verb == "rmi" {
				e.ok("pull", "-q", ref)
			}
			r := runCmd(t, []string{"MYDOCKER_TEST_KILL=" + verb + ":" + strconv.Itoa(n)}, nil, binary,
				"--root", e.root, "--data-root", e.dataRoot, verb, ref)
			if r.code == 0 {
				if verb == "pull" {
					e.ok("rmi", ref)
				}
				clean(verb + " run to its end")
				break
			}
			if verb == "pull" {
				if out := e.ok("images", "-q"); strings.TrimSpace(out) != "" {
					t.Fatalf("pull killed before step %d left an image: %q (%s)", n, out, r.stderr)
				}
				e.ok("pull", "-q", ref) // the retry
				e.ok("rmi", ref)
			} else {
				e.run("rmi", ref) // untagged already, or not
				e.ok("image", "prune")
			}
			clean(verb + " killed before step " + strconv.Itoa(n) + " and then finished")
		}
	}
}

// A pulled image runs with its layers as the overlay's lowerdirs (short
// links, mounted from the store) and honours its config; run's flags
// override it; rmi is refused while a container uses it; run --rm leaves
// the store's layers as they were and no mount.
func TestRunPulledImage(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	ref := reg + "/app:v1"
	imagetest.Push(t, ref, imagetest.App(t, "1"))
	e.ok("pull", ref)
	layers := filepath.Join(e.dataRoot, "image", "layers")
	before := treeOf(t, layers)

	// Entrypoint + Cmd, Env, WorkingDir, User, the whiteout; the mount's
	// narration shows the lowerdir chain of links, from the store.
	r := e.run("run", "--rm", "--net", "none", ref)
	if r.code != 0 || r.stdout != "bar from /app\n" {
		t.Fatalf("run: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`--wd=\S+/image mount -t overlay -o lowerdir=l/[0-9a-f]{16}:l/[0-9a-f]{16}:l/[0-9a-f]{16},upperdir=`).MatchString(r.stderr) {
		t.Errorf("the overlay mount's narration lacks the lowerdir chain:\n%s", r.stderr)
	}
	// A dry run plans the same mount, and finds the command in the layers.
	if r := e.run("run", "--dry-run", "--rm", "--net", "none", ref); r.code != 0 || !strings.Contains(r.stderr, "lowerdir=l/") || !strings.Contains(r.stderr, " /bin/sh -c 'echo $FOO from $(pwd)'") {
		t.Errorf("run --dry-run: %d %s", r.code, r.stderr)
	}
	script := `echo "$FOO $BAZ"; pwd; /bin/busybox id; cat /app/version; ls /etc/motd; ls /data`
	out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", "-e", "BAZ=qux", ref, script)
	want := "bar qux\n/app\nuid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n1\nnew\n"
	if out != want {
		t.Errorf("run with a script: %q, want %q", out, want)
	}
	// -e, -w and -u override the image's; --entrypoint drops its Cmd
	// unless arguments are given.
	out = e.ok("--log-level", "error", "run", "--rm", "--net", "none", "-e", "FOO=over", "-w", "/data", "-u", "0", ref, `echo $FOO; pwd; /bin/busybox id -u`)
	if out != "over\n/data\n0\n" {
		t.Errorf("run -e -w -u: %q", out)
	}
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", "--entrypoint", "/bin/cat", ref, "/app/version"); out != "1\n" {
		t.Errorf("run --entrypoint with arguments: %q", out)
	}
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", "--entrypoint", "/bin/ls", ref); out != "hello\nversion\n" {
		t.Errorf("run --entrypoint drops the image's Cmd: %q", out)
	}

	// diff reads the upper directory against the image's layers: a file
	// of a lower layer deleted, one whited out below made again.
	e.ok("--log-level", "warn", "run", "--name", "changer", "--net", "none", "-u", "0", ref, "rm /app/hello; echo hi > /etc/motd")
	if out := e.ok("diff", "changer"); out != "C /app\nD /app/hello\nC /etc\nA /etc/motd\n" {
		t.Errorf("diff of a pulled image's container: %q", out)
	}
	e.ok("--log-level", "warn", "rm", "changer")

	// A flat image takes --entrypoint too.
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", "--entrypoint", "/bin/echo", "busybox", "hi"); out != "hi\n" {
		t.Errorf("run --entrypoint of busybox: %q", out)
	}

	// The container records the image's id: rmi refused while it exists;
	// inspect shows the id and the image's labels; stop sends its
	// StopSignal.
	e.ok("run", "-d", "--name", "app", "--net", "none", ref, `trap "exit 7" USR1; while :; do /bin/busybox sleep 0.1; done`)
	type inspection []struct {
		Image  string
		State  struct{ ExitCode int }
		Config struct {
			Labels     map[string]string
			StopSignal string
		}
	}
	var insp inspection
	if err := json.Unmarshal([]byte(e.ok("inspect", "app")), &insp); err != nil || len(insp) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	id := strings.TrimSpace(e.ok("images", "-q"))
	if !strings.HasPrefix(insp[0].Image, "sha256:") || !strings.HasPrefix(insp[0].Image[7:], id[:12]) ||
		insp[0].Config.Labels["org.example.app"] != "hello" || insp[0].Config.StopSignal != "SIGUSR1" {
		t.Errorf("inspect: %+v (image %s)", insp[0], id)
	}
	e.fails("is used by container app", "rmi", ref)
	e.fails("is used by container app", "rmi", insp[0].Image)
	if r := e.run("stop", "app"); r.code != 0 || !strings.Contains(r.stderr, "kill -USR1 ") {
		t.Errorf("stop: %d %s", r.code, r.stderr)
	}
	var stopped inspection
	if err := json.Unmarshal([]byte(e.ok("inspect", "app")), &stopped); err != nil || len(stopped) != 1 || stopped[0].State.ExitCode != 7 {
		t.Errorf("the command's exit after stop: %+v %v, want 7 (its USR1 trap)", stopped, err)
	}
	e.ok("rm", "app")
	if after := treeOf(t, layers); after != before {
		t.Errorf("the store's layers changed:\n%s\nwant\n%s", after, before)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), e.dataRoot) {
		t.Errorf("mounts left under %s:\n%s", e.dataRoot, mounts)
	}
	if left := e.leftovers(); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
	e.ok("rmi", ref)
}

// treeOf lists the files under dir, with their modes and sizes.
func treeOf(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d\n", strings.TrimPrefix(p, dir), fi.Mode(), fi.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// An image of 128 layers, docker's limit, runs: its lowerdirs, short
// links mounted from the store, fit in the mount options.
func TestRunImageOfManyLayers(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	layers := []v1.Layer{imagetest.Base(t)}
	for i := 1; i < image.MaxLayers; i++ {
		layers = append(layers, imagetest.Layer(t, imagetest.Entry{Name: fmt.Sprintf("f%03d", i), Body: fmt.Sprintf("%d\n", i)}))
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	ref := reg + "/many:v1"
	imagetest.Push(t, ref, img)
	e.ok("--log-level", "error", "pull", ref)
	e.fails("has no command (no Entrypoint or Cmd): give one", "run", "--rm", "--net", "none", ref)
	out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", "--entrypoint", "/bin/cat", ref, "/f001", "/f127")
	if out != "1\n127\n" {
		t.Errorf("run of 128 layers: %q", out)
	}
}

// imageInspection is what the tests read of `image inspect`.
type imageInspection struct {
	Id       string
	RepoTags []string
	Config   struct {
		Env, Entrypoint, Cmd []string
		WorkingDir, User     string
	}
	RootFS struct{ Layers []string }
}

// inspectImage is `image inspect REF`'s one object.
func inspectImage(t *testing.T, e *env, ref string) imageInspection {
	t.Helper()
	var list []imageInspection
	if err := json.Unmarshal([]byte(e.ok("image", "inspect", ref)), &list); err != nil || len(list) != 1 {
		t.Fatalf("image inspect %s: %v", ref, err)
	}
	return list[0]
}

// A container of a pulled image commits as docker's: its image plus one
// layer, the base's layers shared. The committed image runs with the
// container's changes (a file added, a file of the base deleted, a
// directory's content replaced: a whiteout and an opaque directory) and
// settings; it pushes, and pulled into a fresh data root it runs the same.
func TestCommitPulledImage(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	ref := reg + "/app:v1"
	imagetest.Push(t, ref, imagetest.App(t, "1"))
	e.ok("--log-level", "error", "pull", ref)
	base := inspectImage(t, e, ref)
	layers := filepath.Join(e.dataRoot, "image", "layers")

	// Running: the changes made, then committed while it sleeps.
	e.ok("--log-level", "error", "run", "-d", "--name", "app", "--net", "none", "-u", "0", "-e", "ADDED=yes", "-v", t.TempDir()+":/vol", ref,
		`echo added > /app/added && rm /app/version && rm -rf /data && mkdir /data && echo fresh > /data/fresh && echo v > /vol/in-volume && touch /ready && exec /bin/busybox sleep 1000`)
	pid := containerPid(t, e, "app")
	waitFor(t, "the container's changes", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d/root/ready", pid))
		return err == nil
	})
	snap := reg + "/snap:v1"
	r := e.run("commit", "app", snap)
	if r.code != 0 || r.stdout != snap+"\n" {
		t.Fatalf("commit: %d %q %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"mydocker tars ", "1 whiteouts (0/0 character devices: app/version)", "opaque directories (data)",
		"mount points etc/hostname, etc/hosts, etc/resolv.conf, vol", "Layer 3/4 sha256:", "is unpacked already", "unpack layer 4/4 once", "/app/version c 0 0", "setfattr -n trusted.overlay.opaque -v y"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("commit's narration lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "unpack layer 1/4") {
		t.Errorf("commit unpacked a base layer again:\n%s", r.stderr)
	}
	insp := inspectImage(t, e, snap)
	if len(insp.RootFS.Layers) != len(base.RootFS.Layers)+1 || strings.Join(insp.RootFS.Layers[:3], " ") != strings.Join(base.RootFS.Layers, " ") {
		t.Errorf("the committed image's layers %v, want the base's %v plus one", insp.RootFS.Layers, base.RootFS.Layers)
	}
	if insp.Config.User != "0" || insp.Config.WorkingDir != "/app" || strings.Join(insp.Config.Entrypoint, " ") != "/bin/sh -c" ||
		len(insp.Config.Cmd) != 1 || !strings.HasPrefix(insp.Config.Cmd[0], "echo added") || !strings.Contains(strings.Join(insp.Config.Env, " "), "ADDED=yes") {
		t.Errorf("the committed config: %+v", insp.Config)
	}
	if ents, _ := os.ReadDir(layers); len(ents) != 4 {
		t.Errorf("%d layer directories, want the base's 3 plus 1", len(ents))
	}

	check := func(e *env, image string) {
		t.Helper()
		out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", image,
			`cat /app/added; test -e /app/version || echo version-deleted; /bin/busybox ls /data; /bin/busybox id -u; pwd; echo $FOO $ADDED; test -e /vol/in-volume || echo no-volume`)
		if want := "added\nversion-deleted\nfresh\n0\n/app\nbar yes\nno-volume\n"; out != want {
			t.Errorf("run %s: %q, want %q", image, out, want)
		}
	}
	check(e, snap)

	// Stopped, to a short name: docker.io/library/snap:latest, shown as snap:latest.
	e.ok("stop", "-t", "0", "app")
	e.ok("--log-level", "error", "commit", "app", "snap")
	// (The same changes committed in the same second make the same image:
	// the layer's gzip and the config's time are deterministic.)
	if insp := inspectImage(t, e, "snap"); !slices.Contains(insp.RepoTags, "snap:latest") || len(insp.RootFS.Layers) != 4 {
		t.Errorf("snap: %+v", insp)
	}
	check(e, "snap")
	e.fails("already exists", "commit", "app", "snap")
	e.ok("--log-level", "error", "commit", "--replace", "app", "snap")

	// Pushed, and pulled into a fresh data root.
	if out := e.ok("--log-level", "error", "push", snap); !strings.Contains(out, "digest: sha256:") {
		t.Errorf("push: %q", out)
	}
	other := newEnv(t)
	other.ok("--log-level", "error", "pull", snap)
	if got := inspectImage(t, other, snap); got.Id != insp.Id {
		t.Errorf("pulled back %s, want %s", got.Id, insp.Id)
	}
	check(other, snap)

	// Bad input: one line, exit 125, no image made.
	e.ok("--log-level", "error", "run", "--rm", "busybox", "true") // makes busybox, a flat image
	before := e.ok("images", "-q")
	base0 := filepath.Join(e.dataRoot, "image", "images", strings.TrimPrefix(base.Id, "sha256:")+".json")
	for _, c := range []struct {
		want string
		args []string
	}{
		{"invalid reference", []string{"commit", "app", "Bad Name!"}},
		{"names a digest", []string{"commit", "app", reg + "/x@" + insp.Id}},
		{"no such container", []string{"commit", "nosuch", "x"}},
		{"as a flat image", []string{"commit", "app", "busybox"}},
		{"its image " + ref + " is gone", []string{"commit", "app", "gone"}}, // its record removed by hand, below
	} {
		if c.want == "its image "+ref+" is gone" {
			if err := os.Remove(base0); err != nil {
				t.Fatal(err)
			}
			before = e.ok("images", "-q")
		}
		r := e.fails(c.want, c.args...)
		if r.code != 125 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q: want one line and 125", c.args, r.code, r.stderr)
		}
		if after := e.ok("images", "-q"); after != before {
			t.Errorf("%v changed the images:\n%s\nwas\n%s", c.args, after, before)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(e.dataRoot, "image", "blobs", "sha256", ".tmp-*")); len(tmps) > 0 {
		t.Errorf("temp files left: %v", tmps)
	}
}

// A commit killed before each of its steps leaves no image; `image prune`
// then leaves the store as it was (no layer, blob, tag or temp file of the
// commit); the commit run to its end makes the image, and its rmi and a
// prune leave the store as it was too.
func TestCommitKilledAtEveryStep(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	ref := reg + "/app:v1"
	imagetest.Push(t, ref, imagetest.App(t, "1"))
	e.ok("--log-level", "error", "pull", ref)
	e.ok("--log-level", "error", "run", "--name", "app", "--net", "none", "-u", "0", ref, "echo x > /app/x && rm /app/version && rm -rf /data && mkdir /data")
	store := filepath.Join(e.dataRoot, "image")
	files := func() string {
		var b strings.Builder
		filepath.WalkDir(store, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasSuffix(p, "/.lock") {
				fi, _ := os.Lstat(p)
				fmt.Fprintf(&b, "%s %d\n", strings.TrimPrefix(p, store+"/"), fi.Size())
			}
			return nil
		})
		return b.String()
	}
	check := func() {
		t.Helper()
		if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", "snap", "cat /app/x; test -e /app/version || echo deleted"); out != "x\ndeleted\n" {
			t.Errorf("run snap: %q", out)
		}
	}
	before, images := files(), e.ok("images", "-q")
	n := 1
	for ; ; n++ {
		r := runCmd(t, []string{"MYDOCKER_TEST_KILL=commit:" + strconv.Itoa(n)}, nil, binary,
			"--root", e.root, "--data-root", e.dataRoot, "commit", "app", "snap")
		if r.code == 0 {
			if n < 5 {
				t.Fatalf("the commit completed after %d steps: the kill switch did not work?", n-1)
			}
			break
		}
		if !strings.Contains(r.stderr, "crashtest: commit") {
			t.Fatalf("commit (kill at %d): exit %d without the kill: %s", n, r.code, r.stderr)
		}
		if out := e.ok("images", "-q"); out != images {
			// Killed after the record's write (before its temp file's
			// removal): the image is made, and whole.
			if !strings.Contains(r.stderr, "rm -rf ") {
				t.Fatalf("commit killed before step %d left an image: %q, was %q (%s)", n, out, images, r.stderr)
			}
			check()
			e.ok("rmi", "snap")
		}
		e.ok("image", "prune")
		if after := files(); after != before {
			t.Fatalf("commit killed before step %d, then image prune: the store holds\n%s\nwas\n%s", n, after, before)
		}
	}
	t.Logf("killed before each of the commit's %d steps", n-1)
	check()
	e.ok("rmi", "snap")
	e.ok("image", "prune")
	if after := files(); after != before {
		t.Errorf("after rmi: the store holds\n%s\nwas\n%s", after, before)
	}
}
