package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/image/imagetest"
	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/testns"
)

func TestMain(m *testing.M) { testns.Main(m) }

// newStore is a store in a temp dir whose narration goes to the returned
// buffer.
func newStore(t *testing.T) (*Store, *bytes.Buffer) {
	t.Helper()
	testns.RequireRoot(t) // owners, whiteout nodes, trusted xattrs
	var buf bytes.Buffer
	log := logrus.New()
	log.Out = &buf
	log.Level = logrus.DebugLevel
	return NewStore(filepath.Join(t.TempDir(), "image"), kernel.NewNarrating(log)), &buf
}

func pull(t *testing.T, s *Store, ref string) *Record {
	t.Helper()
	rec, _, err := s.Pull(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestPullByTagAndByDigest(t *testing.T) {
	s, log := newStore(t)
	var progress bytes.Buffer
	s.Progress = &progress
	reg := imagetest.Registry(t)
	img := imagetest.App(t, "1")
	imagetest.Push(t, reg+"/app:v1", img)
	rec := pull(t, s, reg+"/app:v1")
	if n := strings.Count(progress.String(), ": Download complete "); n != 3 {
		t.Errorf("progress: %d layers complete, want 3:\n%q", n, progress.String())
	}
	id, _ := img.ConfigName()
	if rec.ID != id.String() || len(rec.Layers) != 3 {
		t.Fatalf("record %+v, want id %s and 3 layers", rec, id)
	}
	for _, want := range []string{"curl -fsSL -H 'Accept: ", "http://" + reg + "/v2/app/manifests/v1",
		"/v2/app/blobs/sha256:", "sha256sum -c --quiet", "tar --numeric-owner", "mknod ", "/etc/motd c 0 0",
		"setfattr -n trusted.overlay.opaque -v y", "mv -T ", "ln -s ../layers/"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the narration lacks %q:\n%s", want, log)
		}
	}
	cfg, err := s.Config("sha256:" + rec.ID[7:19])
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Config; c.WorkingDir != "/app" || c.User != "65534" || len(c.Entrypoint) != 2 || c.Env[1] != "FOO=bar" {
		t.Errorf("config %+v", c)
	}
	lower, err := s.Lowerdirs(reg + "/app:v1")
	if err != nil || len(lower) != 3 {
		t.Fatalf("lowerdirs %v %v", lower, err)
	}
	if _, err := os.Stat(filepath.Join(lower[0], "app/version")); err != nil {
		t.Errorf("the top layer comes first: %v", err)
	}
	dir, links, err := s.Links(reg + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range links {
		if got, err := filepath.EvalSymlinks(filepath.Join(dir, l)); err != nil || got != lower[i] {
			t.Errorf("link %s -> %s (%v), want %s", l, got, err, lower[i])
		}
	}

	// By digest: the same image, with no new tag, found by its digest.
	d, _ := img.Digest()
	byDigest := reg + "/app@" + d.String()
	if rec2 := pull(t, s, byDigest); rec2.ID != rec.ID {
		t.Fatalf("by digest: %s, want %s", rec2.ID, rec.ID)
	}
	if im, err := s.Lookup(byDigest); err != nil || im.ID != rec.ID || len(im.Tags) != 1 {
		t.Fatalf("lookup by digest: %+v %v", im, err)
	}
}

func TestWhiteoutsAndOwnersOnDisk(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	pull(t, s, reg+"/app:v1")
	lower, _ := s.Lowerdirs(reg + "/app:v1")
	mid, base := lower[1], lower[2]
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(mid, "etc/motd"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("etc/motd is not a 0/0 char device: %+v %v", st, err)
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(mid, "data"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("data is not opaque: %q %v", buf[:n], err)
	}
	if ms, _ := filepath.Glob(filepath.Join(mid, "*", ".wh.*")); len(ms) > 0 {
		t.Errorf("whiteout files left: %v", ms)
	}
	fi, err := os.Lstat(filepath.Join(mid, "app/hello"))
	if err != nil || fi.Mode().Perm() != 0o640 || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("app/hello: %v %v", fi.Mode(), err)
	}
	if n, err := unix.Lgetxattr(filepath.Join(mid, "app/hello"), "user.mydocker", buf); err != nil || string(buf[:n]) != "test" {
		t.Errorf("app/hello's xattr: %q %v", buf[:n], err)
	}
	a, _ := os.Stat(filepath.Join(base, "bin/cat"))
	b, _ := os.Stat(filepath.Join(base, "bin/busybox"))
	if !os.SameFile(a, b) {
		t.Error("bin/cat is not a hard link of bin/busybox")
	}
	if l, err := os.Readlink(filepath.Join(base, "bin/ls")); err != nil || l != "/bin/busybox" {
		t.Errorf("bin/ls -> %q %v", l, err)
	}

	// Overlay, mounted on the lowerdirs as run will, shows the deletions.
	merged := t.TempDir()
	dir, links, _ := s.Links(reg + "/app:v1")
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	err = unix.Mount("overlay", merged, "overlay", 0, "lowerdir="+strings.Join(links, ":"))
	os.Chdir(wd)
	if err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	for p, want := range map[string]bool{"etc/motd": false, "data/old": false, "data/new": true, "etc/passwd": true, "app/version": true, "app/hello": true} {
		if _, err := os.Lstat(filepath.Join(merged, p)); (err == nil) != want {
			t.Errorf("merged %s: exists %v, want %v", p, err == nil, want)
		}
	}
}

func TestImagesShareTheirBaseLayer(t *testing.T) {
	s, log := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	imagetest.Push(t, reg+"/app:v2", imagetest.App(t, "2"))
	pull(t, s, reg+"/app:v1")
	pull(t, s, reg+"/app:v2")
	l1, _ := s.Lowerdirs(reg + "/app:v1")
	l2, _ := s.Lowerdirs(reg + "/app:v2")
	if l1[0] == l2[0] || l1[1] != l2[1] || l1[2] != l2[2] {
		t.Fatalf("lowerdirs %v and %v: want the two bottom ones shared", l1, l2)
	}
	if ents, _ := os.ReadDir(s.layersDir()); len(ents) != 4 {
		t.Errorf("%d layer directories, want 4", len(ents))
	}
	if !strings.Contains(log.String(), "is unpacked already") {
		t.Error("the second pull does not say it shares the layers")
	}
}

func TestTagPushPullRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	rec := pull(t, s, reg+"/app:v1")
	if err := s.Tag(reg+"/app:v1", reg+"/other:v2"); err != nil {
		t.Fatal(err)
	}
	digest, err := s.Push(context.Background(), reg+"/other:v2")
	if err != nil {
		t.Fatal(err)
	}
	if digest != rec.Manifest {
		t.Errorf("pushed as %s, want the manifest's digest %s", digest, rec.Manifest)
	}
	s2, _ := newStore(t)
	if rec2 := pull(t, s2, reg+"/other:v2"); rec2.ID != rec.ID {
		t.Fatalf("pulled back %s, want %s", rec2.ID, rec.ID)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	rec := pull(t, s, reg+"/app:v1")
	if err := s.Tag(reg+"/app:v1", "app:v1"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Save([]string{"app:v1"}, &buf); err != nil {
		t.Fatal(err)
	}
	s2, _ := newStore(t)
	loaded, err := s2.Load("-", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0].ID != rec.ID || len(loaded[0].Tags) != 1 || loaded[0].Tags[0].Name() != "index.docker.io/library/app:v1" {
		t.Fatalf("loaded %+v, want %s as app:v1", loaded, rec.ID)
	}
	l1, _ := s.Lowerdirs("app:v1")
	l2, _ := s2.Lowerdirs("app:v1")
	if filepath.Base(filepath.Dir(l1[0])) != filepath.Base(filepath.Dir(l2[0])) {
		t.Errorf("the top layer's chain id changed: %s, %s", l1[0], l2[0])
	}
}

func TestRemoveIsRefusedWhileUsed(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	rec := pull(t, s, reg+"/app:v1")
	users := []User{{Name: "web", ID: strings.Repeat("ab", 32), Image: reg + "/app:v1"}}
	if _, err := s.Remove(reg+"/app:v1", false, users); err == nil || !strings.Contains(err.Error(), "used by container web") {
		t.Fatalf("remove of a used image: %v", err)
	}
	if _, err := s.Remove(rec.ID, false, []User{{Name: "x", ImageID: rec.ID}}); err == nil {
		t.Fatal("remove by id of a used image succeeded")
	}
	// Another tag of it goes: the image stays.
	if err := s.Tag(reg+"/app:v1", "extra:v1"); err != nil {
		t.Fatal(err)
	}
	if did, err := s.Remove("extra:v1", false, users); err != nil || len(did) != 1 {
		t.Fatalf("untag: %v %v", did, err)
	}
	// -f on its last tag: untagged, kept for the container.
	if did, err := s.Remove(reg+"/app:v1", true, users); err != nil || len(did) != 1 || !strings.HasPrefix(did[0], "Untagged: ") {
		t.Fatalf("remove -f of a used image: %v %v", did, err)
	}
	users[0].ImageID = rec.ID // as run records it
	if gone, err := s.Prune(users); err != nil || len(gone) != 0 {
		t.Fatalf("prune removed a used image: %v %v", gone, err)
	}
	if gone, err := s.Prune(nil); err != nil || len(gone) != 1 {
		t.Fatalf("prune: %v %v", gone, err)
	}
	for _, d := range []string{s.layersDir(), s.linksDir(), filepath.Join(s.Root, "blobs/sha256"), s.recordsDir()} {
		if ents, _ := os.ReadDir(d); len(ents) > 0 {
			t.Errorf("%s still holds %v", d, ents)
		}
	}
}

func TestConcurrentPullsUnpackEachLayerOnce(t *testing.T) {
	s, log := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Pull(context.Background(), reg+"/app:v1")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(log.String(), "$ mkdir -p "+s.layersDir()+"/.tmp-"); n != 3 {
		t.Errorf("%d unpacks, want 3 (one per layer)", n)
	}
	ents, _ := os.ReadDir(s.layersDir())
	if len(ents) != 3 {
		t.Errorf("layers/ holds %v", ents)
	}
}

func TestBadInputs(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	ctx := context.Background()
	for ref, want := range map[string]string{
		"Bad Ref!":                 "invalid reference",
		reg + "/app:nosuchtag":     "the registry answered 404",
		reg + "/nosuchrepo:latest": "the registry answered 404",
		"127.0.0.1:1/app:v1":       "connection refused",
	} {
		_, _, err := s.Pull(ctx, ref)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("pull %s: %v, want one line with %q", ref, err, want)
		}
	}
	// Nothing made, not even a directory of layers or a record.
	for _, d := range []string{s.layersDir(), s.recordsDir()} {
		if ents, _ := os.ReadDir(d); len(ents) > 0 {
			t.Errorf("%s holds %v", d, ents)
		}
	}
	if _, err := s.Load("", strings.NewReader("not a tar at all, not even close")); err == nil || !strings.Contains(err.Error(), "not a tar archive") {
		t.Errorf("load of junk: %v", err)
	}
	var buf bytes.Buffer
	pull(t, s, reg+"/app:v1")
	if err := s.Save([]string{reg + "/app:v1"}, &buf); err != nil {
		t.Fatal(err)
	}
	s2, _ := newStore(t)
	if _, err := s2.Load("", bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("load of a truncated tar: %v", err)
	}
	if ents, _ := os.ReadDir(s2.Root); len(ents) > 0 {
		t.Errorf("a failed load left %v", ents)
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	testns.RequireRoot(t)
	for what, entries := range map[string][]imagetest.Entry{
		"symlink escape":  {{Name: "etc", Link: "/etc"}, {Name: "etc/evil", Body: "x"}},
		"relative escape": {{Name: "up", Link: "../../.."}, {Name: "up/evil", Body: "x"}},
		"path traversal":  {{Name: "../../evil", Body: "x"}},
		"hard link out":   {{Name: "passwd", Hard: "../../etc/passwd"}},
	} {
		dir := t.TempDir()
		_, err := archive.Extract(bytes.NewReader(imagetest.Tar(t, entries...)), dir, archive.Options{Whiteouts: true})
		switch what {
		case "path traversal": // ".." is cleaned: the file lands inside
			if _, serr := os.Stat(filepath.Join(dir, "evil")); err != nil || serr != nil {
				t.Errorf("%s: %v %v", what, err, serr)
			}
		case "hard link out": // to dir/etc/passwd, which the layer lacks
			if err == nil {
				t.Errorf("%s: no error", what)
			}
		default:
			if err == nil || !strings.Contains(err.Error(), "symlink") {
				t.Errorf("%s: %v", what, err)
			}
		}
	}
	if _, err := os.Stat("/etc/evil"); err == nil {
		t.Fatal("/etc/evil was written")
	}
}

// registryProxy serves what the registry at reg answers, each response
// read whole and handed, with its headers already set, to serve.
func registryProxy(t *testing.T, reg string, serve func(w http.ResponseWriter, r *http.Request, status int, body []byte)) *httptest.Server {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get("http://" + reg + r.URL.String())
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		serve(w, r, resp.StatusCode, body)
	}))
	t.Cleanup(proxy.Close)
	return proxy
}

func TestTamperedBlobAndSilentRegistry(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	img := imagetest.App(t, "1")
	imagetest.Push(t, reg+"/app:v1", img)
	layers, _ := img.Layers()
	top, _ := layers[2].Digest()
	// A proxy that flips a byte of the top layer's blob.
	proxy := registryProxy(t, reg, func(w http.ResponseWriter, r *http.Request, status int, body []byte) {
		if strings.HasSuffix(r.URL.Path, top.String()) {
			body[len(body)/2] ^= 0xff
		}
		w.WriteHeader(status)
		w.Write(body)
	})
	host := strings.TrimPrefix(proxy.URL, "http://")
	_, _, err := s.Pull(context.Background(), host+"/app:v1")
	if err == nil || !strings.Contains(err.Error(), "sha256") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("pull of a tampered blob: %v", err)
	}
	if _, err := os.Stat(s.blobPath(top)); err == nil {
		t.Error("the tampered blob was kept")
	}
	if ents, _ := os.ReadDir(s.recordsDir()); len(ents) > 0 {
		t.Errorf("a record was written: %v", ents)
	}

	// A registry that accepts connections and never answers: bounded.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	oldR, oldD := ResponseTimeout, DialTimeout
	ResponseTimeout, DialTimeout = 300*time.Millisecond, 300*time.Millisecond
	defer func() { ResponseTimeout, DialTimeout = oldR, oldD }()
	start := time.Now()
	_, _, err = s.Pull(context.Background(), ln.Addr().String()+"/app:v1")
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") || time.Since(start) > 10*time.Second {
		t.Fatalf("pull from a silent registry: %v after %v", err, time.Since(start))
	}
}

func TestLoadOCILayoutAndArchive(t *testing.T) {
	s, _ := newStore(t)
	img := imagetest.App(t, "1")
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": "example.com/app:oci"})); err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Load(dir, nil)
	id, _ := img.ConfigName()
	if err != nil || len(loaded) != 1 || loaded[0].ID != id.String() || loaded[0].Tags[0].Name() != "example.com/app:oci" {
		t.Fatalf("load of an OCI layout: %+v %v", loaded, err)
	}
	// The same layout as a tar (an OCI archive).
	archive := filepath.Join(t.TempDir(), "oci.tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", archive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	s2, _ := newStore(t)
	if loaded, err := s2.Load(archive, nil); err != nil || len(loaded) != 1 || loaded[0].ID != id.String() {
		t.Fatalf("load of an OCI archive: %+v %v", loaded, err)
	}
}

func TestPullThroughAnIndexPicksThisPlatform(t *testing.T) {
	s, log := newStore(t)
	reg := imagetest.Registry(t)
	mine, other := imagetest.App(t, "mine"), imagetest.App(t, "other")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: other, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}},
		mutate.IndexAddendum{Add: mine, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}})
	r, _ := name.ParseReference(reg + "/multi:v1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	rec := pull(t, s, reg+"/multi:v1")
	want, _ := mine.ConfigName()
	if rec.ID != want.String() {
		t.Fatalf("pulled %s, want this platform's %s", rec.ID, want)
	}
	if !strings.Contains(log.String(), "an index: ask for the manifest of its linux/"+runtime.GOARCH+" image") {
		t.Errorf("the walk through the index is not narrated:\n%s", log)
	}
}

// docker save >= 25 writes an OCI layout with a manifest.json beside it
// that names the blobs by their layout paths.
func TestLoadDocker25StyleArchive(t *testing.T) {
	s, _ := newStore(t)
	img := imagetest.App(t, "25")
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	entry := map[string]any{"Config": "blobs/sha256/" + m.Config.Digest.Hex, "RepoTags": []string{"app:v25"}}
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, "blobs/sha256/"+l.Digest.Hex)
	}
	entry["Layers"] = layers
	data, _ := json.Marshal([]any{entry})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "docker25.tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", archive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	loaded, err := s.Load(archive, nil)
	id, _ := img.ConfigName()
	if err != nil || len(loaded) != 1 || loaded[0].ID != id.String() || loaded[0].Tags[0].Name() != "index.docker.io/library/app:v25" {
		t.Fatalf("load: %+v %v", loaded, err)
	}
}

func TestInsecureRegistries(t *testing.T) {
	t.Setenv(InsecureEnv, "registry.example:5000, other.example")
	for ref, scheme := range map[string]string{
		"registry.example:5000/app:v1": "http",
		"other.example/app":            "http",
		"secure.example/app":           "https",
		"127.0.0.1:5000/app":           "http",
		"alpine":                       "https",
	} {
		r, err := ParseReference(ref)
		if err != nil || r.Context().Scheme() != scheme {
			t.Errorf("%s: %v %v, want %s", ref, r, err, scheme)
		}
	}
	if r, _ := ParseReference("alpine"); r.Name() != "index.docker.io/library/alpine:latest" || familiarRef(r) != "alpine:latest" {
		t.Errorf("alpine is %s (%s)", r.Name(), familiarRef(r))
	}
}

// 128 layers, docker's limit, mount through their short links (their full
// paths would overflow a page of mount options); 129 are refused.
func TestManyLayersFitInTheMountOptions(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	var layers []v1.Layer
	for i := 0; i <= MaxLayers; i++ {
		layers = append(layers, imagetest.Layer(t, imagetest.Entry{Name: fmt.Sprintf("f%03d", i), Body: "x"}))
	}
	for _, n := range []int{MaxLayers, MaxLayers + 1} {
		img, err := mutate.AppendLayers(empty.Image, layers[:n]...)
		if err != nil {
			t.Fatal(err)
		}
		imagetest.Push(t, fmt.Sprintf("%s/many:%d", reg, n), img)
	}
	if _, _, err := s.Pull(context.Background(), fmt.Sprintf("%s/many:%d", reg, MaxLayers+1)); err == nil || !strings.Contains(err.Error(), "at most 128") {
		t.Fatalf("pull of 129 layers: %v", err)
	}
	ref := fmt.Sprintf("%s/many:%d", reg, MaxLayers)
	pull(t, s, ref)
	dir, links, err := s.Links(ref)
	if err != nil || len(links) != MaxLayers {
		t.Fatalf("links %d %v", len(links), err)
	}
	opts := "lowerdir=" + strings.Join(links, ":")
	if len(opts) >= 4096 {
		t.Fatalf("the mount options take %d bytes", len(opts))
	}
	merged := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	err = unix.Mount("overlay", merged, "overlay", 0, opts)
	os.Chdir(wd)
	if err != nil {
		t.Fatalf("mount 128 layers: %v", err)
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	if ents, _ := os.ReadDir(merged); len(ents) != MaxLayers {
		t.Errorf("the merged view holds %d files, want %d", len(ents), MaxLayers)
	}
}
