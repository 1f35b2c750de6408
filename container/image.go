package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
	"github.com/mydocker/mydocker/internal/statefile"
)

// ErrImageNotExist is returned for an image that is not there.
var ErrImageNotExist = errors.New("no such image")

var errImageExists = errors.New("image already exists")

// Images is the image store: one unpacked root filesystem per name under
// <data-root>/images, used read-only as an overlay lowerdir.
type Images struct {
	Paths Paths
	K     kernel.Kernel
}

// Image is one entry of `mydocker images`.
type Image struct {
	Name    string
	Path    string
	Created time.Time
}

// ValidateImageName keeps image names usable as directory names.
func ValidateImageName(name string) error {
	if len(name) > 128 || !names.Valid(name, names.LowerAlnum, "_.-") || strings.Contains(name, "..") {
		return fmt.Errorf("invalid image name %q: use lowercase letters, digits and _.- (starting with a letter or digit)", name)
	}
	return nil
}

// normalize drops a ":latest" tag, the only tag there is.
func normalize(name string) string { return strings.TrimSuffix(name, ":latest") }

func (im Images) lock() (func(), error) {
	return statefile.Lock(filepath.Join(im.Paths.ImagesDir(), ".lock"))
}

// List returns the images, by name.
func (im Images) List() ([]Image, error) {
	entries, err := os.ReadDir(im.Paths.ImagesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []Image
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Image{Name: e.Name(), Path: im.Paths.ImageDir(e.Name()), Created: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// runImage is an image as run takes it.
type runImage struct {
	// Lower is the overlay's lowerdir option: a flat image's directory,
	// or a layered image's short links (l/<short>, top first) relative to
	// LowerFrom, the store's root, where the mount is done from.
	Lower, LowerFrom string
	// Layers are the layers' directories, top first (one for a flat
	// image), where run looks up files before anything is mounted.
	Layers []string
	// ID and Config are a layered image's id and config (none for a flat one).
	ID     string
	Config *v1.Config
}

// find returns the top-most layer that has path rel, or the top layer if
// none has: what the merged root would show (whiteouts aside).
func (ri *runImage) find(rel string) string {
	for _, l := range ri.Layers {
		if _, err := os.Lstat(filepath.Join(l, rel)); err == nil {
			return l
		}
	}
	return ri.Layers[0]
}

// Resolve returns an image as run takes it. The built-in image busybox is
// built from the host's static busybox the first time it is asked for.
func (im Images) Resolve(name string) (*runImage, error) {
	if im.flat(name) {
		dir := im.Paths.ImageDir(normalize(name))
		return &runImage{Lower: dir, Layers: []string{dir}}, nil
	}
	s := image.NewStore(im.Paths.ImageStoreDir(), im.K)
	if found, err := s.Lookup(name); err == nil {
		return im.layered(s, found.ID)
	}
	name = normalize(name)
	if err := ValidateImageName(name); err != nil {
		return nil, err
	}
	dir := im.Paths.ImageDir(name)
	if _, err := os.Stat(dir); err == nil {
		return &runImage{Lower: dir, Layers: []string{dir}}, nil
	}
	if name != BusyboxImage {
		return nil, fmt.Errorf("%w: %s (see `mydocker images`; `mydocker image import FILE.tar %s` makes one)", ErrImageNotExist, name, name)
	}
	if err := im.K.Do(buildBusyboxOp{im: im, dir: dir}); err != nil {
		return nil, fmt.Errorf("build image busybox: %w", err)
	}
	return &runImage{Lower: dir, Layers: []string{dir}}, nil
}

// layered resolves an image of the store by its id: its layers through the
// store's short links, so that many layers fit in the mount options.
func (im Images) layered(s *image.Store, id string) (*runImage, error) {
	from, links, err := s.Links(id)
	if err != nil {
		return nil, err
	}
	layers, err := s.Lowerdirs(id)
	if err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("image %s has no layers", id)
	}
	cfg, err := s.Config(id)
	if err != nil {
		return nil, err
	}
	return &runImage{Lower: strings.Join(links, ":"), LowerFrom: from, Layers: layers, ID: id, Config: &cfg.Config}, nil
}

// buildBusyboxOp builds the busybox image (mydocker's own data, no kernel
// object: its command is a comment). A plan only says so.
type buildBusyboxOp struct {
	im  Images
	dir string
}

func (buildBusyboxOp) Why() string {
	return "the image busybox does not exist yet: build it from the host's static busybox"
}
func (b buildBusyboxOp) Command() kernel.Command {
	return kernel.Command{Comment: "mydocker fills " + b.dir + " with the host's busybox and a link for each of its applets"}
}
func (b buildBusyboxOp) Plan(*kernel.Plan) error { return nil }
func (b buildBusyboxOp) Apply(*kernel.Exec) error {
	// Another mydocker may build it at the same time: whoever comes second
	// finds it made.
	if err := b.im.buildBusybox(); err != nil && !errors.Is(err, errImageExists) {
		return err
	}
	return nil
}

// Import makes image name from a rootfs tarball (plain or gzip) or a directory.
func (im Images) Import(src, name string) error {
	name = normalize(name)
	if err := ValidateImageName(name); err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	return im.create(name, func(tmp string) error {
		if fi.IsDir() {
			return copyTree(src, tmp)
		}
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		return archive.Untar(f, tmp)
	})
}

// create fills a temporary directory with fill and renames it to the image,
// so an image is either whole or absent. An existing name is refused.
func (im Images) create(name string, fill func(tmp string) error) error {
	return im.put(name, fill, nil)
}

// put is create that, when the name exists and mayReplace (called under
// the image lock) says yes, replaces the old image with the new one: the
// new one is complete before the old one is moved away.
func (im Images) put(name string, fill func(tmp string) error, mayReplace func() error) error {
	if err := os.MkdirAll(im.Paths.ImagesDir(), 0o755); err != nil {
		return fmt.Errorf("create image directory: %w", err)
	}
	unlock, err := im.lock()
	if err != nil {
		return err
	}
	defer unlock()
	dir := im.Paths.ImageDir(name)
	exists := false
	if _, err := os.Stat(dir); err == nil {
		if mayReplace == nil {
			return fmt.Errorf("%w: %s (remove it first with `mydocker image rm %s`)", errImageExists, name, name)
		}
		if err := mayReplace(); err != nil {
			return err
		}
		exists = true
	}
	tmp, err := os.MkdirTemp(im.Paths.ImagesDir(), ".tmp-"+name+"-")
	if err != nil {
		return fmt.Errorf("create image %s: %w", name, err)
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("create image %s: %w", name, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	var old string
	if exists {
		old = filepath.Join(im.Paths.ImagesDir(), ".rm-"+filepath.Base(tmp))
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("replace image %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("create image %s: %w", name, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Remove deletes an image. Containers are made on top of it, so it is
// refused while any container (running or not) uses it, unless force.
func (im Images) Remove(name string, users []*Config, force bool) error {
	name = normalize(name)
	if err := ValidateImageName(name); err != nil {
		return err
	}
	dir := im.Paths.ImageDir(name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w: %s", ErrImageNotExist, name)
	}
	for _, c := range users {
		if c.Image == name && !force {
			return fmt.Errorf("image %s is used by container %s (%s): remove the container first, or use -f", name, c.Name, ShortID(c.ID))
		}
	}
	unlock, err := im.lock()
	if err != nil {
		return err
	}
	defer unlock()
	// Rename first so a half-removed image is never used.
	tmp := filepath.Join(im.Paths.ImagesDir(), ".rm-"+name)
	os.RemoveAll(tmp)
	if err := os.Rename(dir, tmp); err != nil {
		return fmt.Errorf("remove image %s: %w", name, err)
	}
	return os.RemoveAll(tmp)
}

// Export writes an image as a plain rootfs tarball.
func (im Images) Export(name string, w io.Writer) error {
	name = normalize(name)
	if err := ValidateImageName(name); err != nil {
		return err
	}
	dir := im.Paths.ImageDir(name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w: %s", ErrImageNotExist, name)
	}
	return archive.Tar(dir, w)
}

// BusyboxImage is the built-in image.
const BusyboxImage = "busybox"

// hostBusybox is where Debian's busybox-static puts its binary.
var hostBusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

func (im Images) buildBusybox() error {
	var bb string
	for _, p := range hostBusyboxPaths {
		if _, err := os.Stat(p); err == nil {
			bb = p
			break
		}
	}
	if bb == "" {
		return errors.New("the host has no busybox: install Debian's busybox-static (apt-get install busybox-static)")
	}
	// A dynamically linked busybox would need the host's libc in the image.
	if out, err := exec.Command("ldd", bb).CombinedOutput(); err == nil && !strings.Contains(string(out), "not a dynamic") && !strings.Contains(string(out), "statically linked") {
		return fmt.Errorf("%s is dynamically linked: install busybox-static", bb)
	}
	list, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", bb, err)
	}
	return im.create(BusyboxImage, func(tmp string) error {
		for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "root", "home", "var", "tmp", "run"} {
			if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
				return err
			}
		}
		if err := os.Chmod(filepath.Join(tmp, "tmp"), 0o1777|os.ModeSticky); err != nil {
			return err
		}
		if err := copyFile(bb, filepath.Join(tmp, "bin/busybox"), 0o755); err != nil {
			return err
		}
		for _, applet := range strings.Fields(string(list)) {
			if applet == "bin/busybox" {
				continue
			}
			link := filepath.Join(tmp, applet)
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				return err
			}
			if err := os.Symlink("/bin/busybox", link); err != nil && !os.IsExist(err) {
				return err
			}
		}
		files := map[string]string{
			"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
			"etc/group":  "root:x:0:\ntty:x:5:\nnobody:x:65534:\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(tmp, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// copyFile copies a regular file's content to a new file dst.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
