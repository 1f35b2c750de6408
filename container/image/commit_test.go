package image

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/image/imagetest"
	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/archive/archivetest"
)

func tag(t *testing.T, s string) name.Tag {
	t.Helper()
	r, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r.(name.Tag)
}

// pulledApp is imagetest.App("1") pulled into s from a registry of its own.
func pulledApp(t *testing.T, s *Store) *Record {
	t.Helper()
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	return pull(t, s, reg+"/app:v1")
}

// layerEntries lists the names in a layer's tar.
func layerEntries(t *testing.T, l v1.Layer) map[string]bool {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]bool{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = true
	}
}

// A commit is the base image plus one layer made from an upper directory:
// the base's layers shared (the same chain ids, not unpacked again), the
// new one's whiteouts and opaque directory in OCI form in its tar and in
// overlay's form once unpacked, the runtime's mount points left out, the
// config the one given with a history entry.
func TestCommitAddsOneLayer(t *testing.T) {
	s, log := newStore(t)
	base := pulledApp(t, s)

	upper := t.TempDir()
	os.MkdirAll(filepath.Join(upper, "app"), 0o755)
	os.WriteFile(filepath.Join(upper, "app/added"), []byte("added\n"), 0o644)
	archivetest.Whiteout(t, filepath.Join(upper, "etc/passwd"))
	os.MkdirAll(filepath.Join(upper, "data"), 0o755)
	archivetest.Opaque(t, filepath.Join(upper, "data"))
	os.WriteFile(filepath.Join(upper, "data/fresh"), []byte("fresh\n"), 0o644)
	os.WriteFile(filepath.Join(upper, "etc/hosts"), nil, 0o644) // a mount point
	log.Reset()
	rec, err := s.Commit(Commit{Base: base.ID, Upper: upper, Skip: archive.Skip{"etc/hosts"}, Tag: tag(t, "snap"),
		Config: v1.Config{Env: []string{"A=1"}, Cmd: []string{"/bin/sh"}, WorkingDir: "/app"}, CreatedBy: "/bin/sh -c work"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Layers) != 4 {
		t.Fatalf("%d layers, want the base's 3 plus 1", len(rec.Layers))
	}
	for i, l := range base.Layers {
		if rec.Layers[i] != l {
			t.Errorf("layer %d: %+v, want the base's %+v", i, rec.Layers[i], l)
		}
	}
	for _, want := range []string{"is unpacked already", "mydocker tars " + upper, "1 whiteouts (0/0 character devices: etc/passwd)",
		"1 opaque directories (data)", "$ cp ", "$ mkdir -p ", "tar --numeric-owner", "etc/passwd c 0 0", "setfattr -n trusted.overlay.opaque -v y"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the narration lacks %q:\n%s", want, log)
		}
	}
	if strings.Count(log.String(), "is unpacked already") != 3 {
		t.Errorf("the base's 3 layers are not all shared:\n%s", log)
	}

	// Its tar: the OCI forms, no mount point.
	img, err := s.image(rec)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	got := layerEntries(t, layers[3])
	for _, want := range []string{"./app/added", "./etc/.wh.passwd", "./data/", "./data/.wh..wh..opq", "./data/fresh"} {
		if !got[want] {
			t.Errorf("the layer's tar lacks %s: %v", want, got)
		}
	}
	if got["./etc/hosts"] || got["./etc/passwd"] {
		t.Errorf("the layer's tar holds a mount point or the whiteout itself: %v", got)
	}
	// Unpacked: overlay's forms again.
	lower, err := s.Lowerdirs("snap")
	if err != nil || len(lower) != 4 {
		t.Fatalf("lowerdirs %v %v", lower, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(lower[0], "etc/passwd"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("etc/passwd is not a whiteout in the new layer: %+v %v", st, err)
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(lower[0], "data"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("data is not opaque in the new layer: %q %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(lower[0], "etc/hosts")); err == nil {
		t.Error("the new layer holds the mount point etc/hosts")
	}

	// The config: the one given, the base's layers' diff ids plus one,
	// and a history entry.
	cfg, err := s.Config("snap")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.WorkingDir != "/app" || cfg.Config.Env[0] != "A=1" || len(cfg.RootFS.DiffIDs) != 4 || cfg.Architecture != "amd64" ||
		len(cfg.History) != 4 || cfg.History[3].CreatedBy != "/bin/sh -c work" || !cfg.Created.After(base.Created) {
		t.Errorf("config %+v", cfg)
	}
	if im, err := s.Lookup("docker.io/library/snap:latest"); err != nil || im.ID != rec.ID {
		t.Errorf("snap is not tagged docker.io/library/snap:latest: %v", err)
	}
}

// A container that never ran commits an empty layer; a tag in use is
// refused unless Replace; a base image that is gone is an error and
// leaves nothing; a commit on a commit stacks.
func TestCommitEmptyReplaceAndGone(t *testing.T) {
	s, log := newStore(t)
	base := pulledApp(t, s)
	log.Reset()
	rec, err := s.Commit(Commit{Base: base.ID, Tag: tag(t, "empty:v1"), Config: v1.Config{Cmd: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Layers) != 4 || rec.Layers[3].DiffID == "" {
		t.Fatalf("record %+v", rec)
	}
	if !strings.Contains(log.String(), "tar -cf - -T /dev/null | gzip -n > ") {
		t.Errorf("the empty layer's narration:\n%s", log)
	}
	_, err = s.Commit(Commit{Base: base.ID, Tag: tag(t, "empty:v1")})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a tag in use: %v", err)
	}
	// Without marks, the narration is GNU tar's command.
	upper := t.TempDir()
	os.WriteFile(filepath.Join(upper, "f"), []byte("x"), 0o644)
	log.Reset()
	again, err := s.Commit(Commit{Base: rec.ID, Upper: upper, Skip: archive.Skip{"etc/hosts"}, Tag: tag(t, "empty:v1"), Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Layers) != 5 {
		t.Errorf("a commit on a commit: %d layers, want 5", len(again.Layers))
	}
	if !strings.Contains(log.String(), "$ tar --numeric-owner --xattrs '--xattrs-exclude=trusted.overlay.*' '--xattrs-exclude=user.overlay.*' --xattrs-exclude=security.selinux --exclude=./etc/hosts -C "+upper+" -cf - . | gzip -n > ") {
		t.Errorf("the narration lacks the tar command:\n%s", log)
	}
	if im, err := s.Lookup("empty:v1"); err != nil || im.ID != again.ID {
		t.Errorf("Replace did not move the tag: %v", err)
	}
	if im, err := s.Lookup(rec.ID); err != nil || len(im.Tags) != 0 {
		t.Errorf("the image the tag left: %+v %v, want it kept, untagged", im, err)
	}

	// The base gone: an error, no record, no temp file.
	id, _ := v1.NewHash(base.ID)
	os.Remove(s.recordPath(id))
	before, _ := os.ReadDir(s.recordsDir())
	_, err = s.Commit(Commit{Base: base.ID, Upper: upper, Tag: tag(t, "gone:v1")})
	if !errors.Is(err, ErrNotExist) {
		t.Errorf("base gone: %v", err)
	}
	after, _ := os.ReadDir(s.recordsDir())
	tmps, _ := filepath.Glob(filepath.Join(s.Root, "blobs", "sha256", ".tmp-*"))
	if len(after) != len(before) || len(tmps) > 0 {
		t.Errorf("a failed commit left records %v (had %v) or temp files %v", after, before, tmps)
	}
}

// With SOURCE_DATE_EPOCH, the same changes commit to the same image
// whenever they were made: the image's date is that time, and no time in
// the new layer is later (a whiteout's neither). Without it, a file's time
// is its own.
func TestCommitWithSourceDateEpochIsReproducible(t *testing.T) {
	s, _ := newStore(t)
	base := pulledApp(t, s)
	upper := t.TempDir()
	makeTree(t, upper, tree{"app/added": "added\n"})
	archivetest.Whiteout(t, filepath.Join(upper, "etc/passwd"))
	commit := func(ref string) *Record {
		t.Helper()
		rec, err := s.Commit(Commit{Base: base.ID, Upper: upper, Tag: tag(t, ref), Config: v1.Config{Cmd: []string{"/bin/sh"}}})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	touch := func(sec int64) {
		t.Helper()
		for _, p := range []string{"app/added", "app", "etc/passwd", "etc"} {
			tv := []unix.Timeval{{Sec: sec}, {Sec: sec}}
			if err := unix.Lutimes(filepath.Join(upper, p), tv); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv(SourceDateEpochEnv, "1000000000")
	touch(1700000000)
	a := commit("a")
	touch(1700000100)
	b := commit("b")
	if a.ID != b.ID || a.Layers[3].Digest != b.Layers[3].Digest {
		t.Errorf("the same changes a minute apart: %s and %s", a.ID, b.ID)
	}
	cfg, err := s.Config("a")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Created.Unix() != 1000000000 || cfg.History[len(cfg.History)-1].Created.Unix() != 1000000000 {
		t.Errorf("created %v, history %v: want SOURCE_DATE_EPOCH's", cfg.Created, cfg.History[len(cfg.History)-1].Created)
	}
	// Clamped, not set: an earlier time stays.
	touch(900000000)
	img, err := s.image(commit("c"))
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	rc, _ := layers[3].Uncompressed()
	defer rc.Close()
	tr := tar.NewReader(rc)
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		if h.Name == "./app/added" && h.ModTime.Unix() != 900000000 {
			t.Errorf("app/added: %v, want its own earlier time", h.ModTime)
		}
	}

	t.Setenv(SourceDateEpochEnv, "")
	touch(1700000000)
	d := commit("d")
	touch(1700000100)
	if e := commit("e"); e.Layers[3].Digest == d.Layers[3].Digest {
		t.Error("without SOURCE_DATE_EPOCH the files' own times are lost")
	}

	t.Setenv(SourceDateEpochEnv, "yesterday")
	if _, err := s.Commit(Commit{Base: base.ID, Upper: upper, Tag: tag(t, "f")}); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH=yesterday") {
		t.Errorf("a bad SOURCE_DATE_EPOCH: %v", err)
	}
}
