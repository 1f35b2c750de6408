// Package imagetest makes, for tests, images from the host's busybox-static
// with go-containerregistry, and a registry on 127.0.0.1 (the library's
// in-process one): no internet needed.
package imagetest

import (
	"archive/tar"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one tar entry of a layer: a directory (Name ends in /), a file
// (Body), a symlink (Link) or a hard link (Hard).
type Entry struct {
	Name, Body, Link, Hard string
	Mode                   int64
	Uid, Gid               int
	Xattrs                 map[string]string
}

// Tar is a layer's tar from entries.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: e.Mode, Uid: e.Uid, Gid: e.Gid, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		switch {
		case strings.HasSuffix(e.Name, "/"):
			h.Typeflag = tar.TypeDir
		case e.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
		case e.Hard != "":
			h.Typeflag, h.Linkname = tar.TypeLink, e.Hard
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		for k, v := range e.Xattrs {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer is a gzip'd layer from entries.
func Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	b := Tar(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Base is the busybox layer: the host's static busybox, sh and ls links to
// it, a hard link, /etc files, and what App's layers delete: /etc/motd and
// the contents of /data (made opaque).
func Base(t testing.TB) v1.Layer {
	t.Helper()
	var bb []byte
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if b, err := os.ReadFile(p); err == nil {
			bb = b
			break
		}
	}
	if bb == nil {
		t.Skip("the host has no busybox (apt-get install busybox-static)")
	}
	return Layer(t,
		Entry{Name: "bin/"}, Entry{Name: "bin/busybox", Body: string(bb), Mode: 0o755},
		Entry{Name: "bin/sh", Link: "busybox"}, Entry{Name: "bin/ls", Link: "/bin/busybox"},
		Entry{Name: "bin/cat", Hard: "bin/busybox"},
		Entry{Name: "etc/"}, Entry{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"},
		Entry{Name: "etc/group", Body: "root:x:0:\nnobody:x:65534:\n"},
		Entry{Name: "etc/motd", Body: "deleted above\n"},
		Entry{Name: "data/"}, Entry{Name: "data/old", Body: "hidden above\n"},
		Entry{Name: "tmp/", Mode: 0o1777},
	)
}

// App is Base with two layers on it: one deletes /etc/motd (a whiteout),
// makes /data opaque and adds /data/new and /app/hello (owned by 65534,
// with an xattr); one adds /app/version = version. Its config has Env,
// Entrypoint, Cmd, WorkingDir, User, StopSignal and Labels.
func App(t testing.TB, version string) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, Base(t),
		Layer(t, Entry{Name: "etc/"}, Entry{Name: "etc/.wh.motd"},
			Entry{Name: "data/"}, Entry{Name: "data/.wh..wh..opq"}, Entry{Name: "data/new", Body: "new\n"},
			Entry{Name: "app/", Uid: 65534, Gid: 65534},
			Entry{Name: "app/hello", Body: "hello\n", Mode: 0o640, Uid: 65534, Gid: 65534, Xattrs: map[string]string{"user.mydocker": "test"}}),
		Layer(t, Entry{Name: "app/"}, Entry{Name: "app/version", Body: version + "\n"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	cf.Config = v1.Config{
		Env:        []string{"PATH=/bin", "FOO=bar"},
		Entrypoint: []string{"/bin/sh", "-c"},
		Cmd:        []string{"echo $FOO from $(pwd)"},
		WorkingDir: "/app",
		User:       "65534",
		StopSignal: "SIGUSR1",
		Labels:     map[string]string{"org.example.app": "hello"},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Registry starts the library's registry on 127.0.0.1 for the test and
// returns its host:port.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(nilLogger())))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// RegistryWithAuth is Registry behind basic auth, as a registry with an
// htpasswd file answers: 401 and a Basic challenge unless the request
// carries user and password.
func RegistryWithAuth(t testing.TB, user, password string) string {
	t.Helper()
	reg := registry.New(registry.Logger(nilLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// Push puts img in the registry as ref.
func Push(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}
