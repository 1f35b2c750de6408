// Package volume keeps mydocker's named volumes, laid out as docker's local
// driver lays them: a directory per volume under --data-root, volumes/NAME,
// whose _data is what containers mount, beside the volume's record,
// volume.json (name, driver, labels, options, creation time). The data
// root, not --root, holds them: a volume outlives reboots and containers.
//
// # Crash safety
//
// Every change holds the store's lock (volumes/.lock). Create makes the
// volume's directory, writes its record, then makes _data, all under the
// lock: a directory without a record seen under the lock is the remains of
// a create that was killed, and owns nothing. A record without _data is a
// whole volume: _data is made again (mkdir -p) by whoever mounts it or
// creates it again. Remove renames the volume's directory to a dot-name
// (.removing-NAME) in one rename(2), so the volume is either whole or
// gone, then removes that. The next command to take the lock removes what
// a killed one left (Lock).
package volume

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
)

// Driver is the only volume driver: directories under the data root.
const Driver = "local"

// AnonymousLabel marks a volume made for one container (-v /path, a
// --mount without a source), as docker ≥ 23 marks them: `volume prune`
// removes only those unless -a.
const AnonymousLabel = "com.docker.volume.anonymous"

// Sentinel errors callers branch on.
var (
	ErrNotExist = errors.New("no such volume")
	ErrInUse    = errors.New("volume is in use")
)

// Volume is a volume's record, volume.json. Field names are an on-disk
// format: add, never rename.
type Volume struct {
	Name      string
	Driver    string
	Labels    map[string]string `json:",omitempty"`
	Options   map[string]string `json:",omitempty"`
	CreatedAt time.Time
	// Mountpoint is the volume's data directory, set when read (not stored:
	// --data-root may move).
	Mountpoint string `json:"-"`
}

// Anonymous says whether v was made for one container.
func (v *Volume) Anonymous() bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// Store is the set of volumes under Dir (DATA-ROOT/volumes). Its changes go
// through K, the kernel seam.
type Store struct {
	Dir string
	K   kernel.Kernel
}

const (
	recordName = "volume.json"
	dataName   = "_data"
	// removingPrefix names a volume's directory while it is removed.
	removingPrefix = ".removing-"
)

// Path is the volume's directory; DataPath what containers mount.
func (s Store) Path(name string) string     { return filepath.Join(s.Dir, name) }
func (s Store) DataPath(name string) string { return filepath.Join(s.Dir, name, dataName) }
func (s Store) recordPath(name string) string {
	return filepath.Join(s.Dir, name, recordName)
}

// Lock serialises every change to the set of volumes, across processes.
// Callers that must keep a volume from going while they record a use of it
// (run) hold it across both. Whoever takes it first removes what a holder
// that was killed left: nobody else can be making or removing a volume.
func (s Store) Lock() (func(), error) {
	unlock, err := statefile.Lock(filepath.Join(s.Dir, ".lock"))
	if err != nil {
		return nil, err
	}
	s.sweep()
	return unlock, nil
}

// sweep removes the remains of a create or a remove that was killed: a
// volume's directory without its record, a directory being removed.
func (s Store) sweep() {
	ents, _ := os.ReadDir(s.Dir)
	for _, e := range ents {
		name := e.Name()
		switch {
		case !e.IsDir():
		case strings.HasPrefix(name, removingPrefix):
			s.removeDir(name, "the remains of a volume whose removal was cut short")
		case strings.HasPrefix(name, "."):
		default:
			if _, err := os.Lstat(s.recordPath(name)); errors.Is(err, fs.ErrNotExist) {
				s.removeDir(name, "the remains of a volume whose creation was cut short: a directory without its record")
			}
		}
	}
}

// ValidName checks a volume name as docker's local driver does.
func ValidName(name string) error {
	ok := len(name) >= 2
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		ok = ok && (alnum || i > 0 && strings.ContainsRune("_.-", r))
	}
	if !ok {
		return fmt.Errorf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed; if you intended to pass a host directory, use an absolute path", name, name)
	}
	return nil
}

// NewName is a random 64-hex name, as docker gives a volume made without one.
func NewName() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a volume name: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Create makes volume v (v.Name "" gets a random name), or returns the one
// of that name that exists already, as docker's `volume create` does.
// created says which.
func (s Store) Create(v *Volume) (out *Volume, created bool, err error) {
	unlock, err := s.Lock()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	return s.CreateLocked(v)
}

// CreateLocked is Create for a caller that holds Lock.
func (s Store) CreateLocked(v *Volume) (*Volume, bool, error) {
	if v.Name == "" {
		name, err := NewName()
		if err != nil {
			return nil, false, err
		}
		v.Name = name
	}
	if err := ValidName(v.Name); err != nil {
		return nil, false, err
	}
	if v.Driver == "" {
		v.Driver = Driver
	}
	if v.Driver != Driver {
		return nil, false, fmt.Errorf("create %s: volume driver %q is not known: only %q", v.Name, v.Driver, Driver)
	}
	if old, err := s.get(v.Name); err == nil {
		// Its data made again if it went (a create killed before it).
		err := s.K.Do(kernel.Mkdir{Path: s.DataPath(v.Name), Reason: "the volume's data directory: missing, so made again"})
		return old, false, err
	} else if !errors.Is(err, ErrNotExist) {
		return nil, false, err
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	err := s.K.Do(
		kernel.Mkdir{Path: s.Path(v.Name), Mode: 0o701, Reason: "the volume's directory under the data root, for its record and its data"},
		kernel.WriteState{Path: s.recordPath(v.Name), Value: v},
		kernel.Mkdir{Path: s.DataPath(v.Name), Reason: fmt.Sprintf("the volume's data: what a container mounts at its path, kept when the container goes")})
	if err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", v.Name, err)
	}
	v.Mountpoint = s.DataPath(v.Name)
	return v, true, nil
}

// Get reads the volume called name.
func (s Store) Get(name string) (*Volume, error) {
	if name == "" || strings.HasPrefix(name, ".") || strings.Contains(name, "/") {
		return nil, fmt.Errorf("get %s: %w", name, ErrNotExist)
	}
	return s.get(name)
}

func (s Store) get(name string) (*Volume, error) {
	var v Volume
	err := kernel.ReadState(s.K, s.recordPath(name), &v)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", name, ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if v.Name != name || v.Driver == "" {
		return nil, fmt.Errorf("volume %s: %s: %w: its Name is %q and Driver %q", name, s.recordPath(name), statefile.ErrCorrupt, v.Name, v.Driver)
	}
	v.Mountpoint = s.DataPath(name)
	return &v, nil
}

// List reads every volume, sorted by name. A broken record is skipped, with
// a warning naming it (RemoveLocked still removes it).
func (s Store) List() ([]*Volume, error) {
	unlock, err := s.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ents, err := os.ReadDir(s.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []*Volume
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		v, err := s.get(name)
		if errors.Is(err, ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			s.K.Log().Warnf("volume %s skipped: %v", name, err)
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s Store) removeDir(name, why string) {
	if err := s.K.Do(kernel.RemoveAll{Path: s.Path(name), Reason: why}); err != nil {
		s.K.Log().Warnf("%v", err)
	}
}

// RemoveLocked removes the volume called name, for a caller that holds
// Lock and has checked that no container uses it. A broken record is
// removed too; a volume that does not exist is ErrNotExist.
func (s Store) RemoveLocked(name string) error {
	if _, err := s.Get(name); errors.Is(err, ErrNotExist) {
		return err
	}
	trash := s.Path(removingPrefix + name)
	err := s.K.Do(
		kernel.Rename{From: s.Path(name), To: trash,
			Reason: "take the volume away in one step: from here on it is gone, whatever happens to the removal below"},
		kernel.RemoveAll{Path: trash, Reason: "remove the volume's data and record"})
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Size is the bytes of the files in the volume's data.
func (v *Volume) Size() int64 {
	var n int64
	filepath.WalkDir(v.Mountpoint, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
