package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
	"github.com/mydocker/mydocker/network"
)

// Status values kept in config.json.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
	// StatusDead is never on disk: List gives it to a record it cannot
	// use (see Config.Broken), as docker calls a container it cannot handle.
	StatusDead = "dead"
	// StatusRestarting is never on disk either: State gives it to an
	// exited record whose shim waits to restart it (Restarting).
	StatusRestarting = "restarting"
)

// Sentinel errors callers branch on.
var (
	ErrNotExist  = errors.New("no such container")
	ErrRunning   = errors.New("container is running")
	ErrNameTaken = errors.New("container name is already in use")
)

// BrokenError is a container's record that cannot be used: unreadable, not
// JSON, or not a valid record. It names the file and what is wrong.
type BrokenError struct {
	ID     string // the name of the container's state directory
	Path   string // its config.json
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("container %s is dead: %s: %s", ShortID(e.ID), e.Path, e.Reason)
}

// Unwrap makes it a corrupt state file, as other readers report theirs.
func (e *BrokenError) Unwrap() error { return statefile.ErrCorrupt }

// Mount is one -v or --mount: a host path bound (Type "bind", "" in the
// records of an older mydocker), a volume (its data bound), or a tmpfs.
type Mount struct {
	Type        string `json:",omitempty"`
	Name        string `json:",omitempty"` // the volume's
	Source      string // host path: the bind's, the volume's data; "" for a tmpfs
	Destination string // path in the container
	ReadOnly    bool   `json:",omitempty"`
	Mode        string `json:",omitempty"` // -v's mode, as typed
	// Anonymous: a volume made for this container, which goes with it on
	// rm -v and --rm. NoCopy: a fresh volume is not filled from the image.
	Anonymous bool `json:",omitempty"`
	NoCopy    bool `json:",omitempty"`
	// TmpfsOptions are a tmpfs's, in --tmpfs's form (size=BYTES,mode=OCTAL,ro).
	TmpfsOptions string `json:",omitempty"`
}

// Config is a container's config.json: what it was asked to be and what
// became of it. Field names are an on-disk format: add, never rename.
type Config struct {
	ID        string
	Name      string
	Image     string
	ImagePath string // the overlay's lowerdir: the image's root filesystem, or its layers' links
	// ImageLowerFrom is the directory ImagePath's layer links are relative
	// to (the image store's root), for an image of the store; ImageID is
	// that image's id, so rmi knows it is used.
	ImageLowerFrom string `json:",omitempty"`
	ImageID        string `json:",omitempty"`
	// StopSignal is --stop-signal's, else the image's (stop sends it;
	// SIGTERM by default); Labels are the image's and --label's.
	StopSignal string `json:",omitempty"`
	// StopTimeout is --stop-timeout: stop's grace period when -t is not
	// given (nil: 10 seconds, as docker).
	StopTimeout *int              `json:",omitempty"`
	Labels      map[string]string `json:",omitempty"`
	Cmd         []string
	Env         []string
	Hostname    string
	WorkingDir  string                `json:",omitempty"`
	Mounts      []Mount               `json:",omitempty"`
	Tty         bool                  `json:",omitempty"`
	OpenStdin   bool                  `json:",omitempty"`
	Detach      bool                  `json:",omitempty"`
	AutoRemove  bool                  `json:",omitempty"`
	NetworkMode string                `json:",omitempty"` // "none", "host", or a network name
	RequestedIP string                `json:",omitempty"` // --ip
	Ports       []network.PortMapping `json:",omitempty"` // -p
	// ExposedPorts are the image's and --expose's ("80/tcp"), which -P
	// publishes.
	ExposedPorts map[string]struct{} `json:",omitempty"`
	DNS          []string            `json:",omitempty"` // --dns
	ExtraHosts   []string            `json:",omitempty"` // --add-host NAME:IP, as typed
	Aliases      []string            `json:",omitempty"` // --network-alias
	// Networks are the endpoints the container holds, by network name.
	Networks map[string]*network.EndpointInfo `json:",omitempty"`
	// Resources are the cgroup limits asked for with run's flags.
	Resources *cgroups.Resources `json:",omitempty"`
	// Security is the resolved confinement (capabilities, seccomp program,
	// masked paths, devices, user): the init and every exec apply it.
	Security *security.Config `json:",omitempty"`
	// ReadonlyRootfs and Tmpfs are --read-only and --tmpfs (path: options).
	ReadonlyRootfs bool              `json:",omitempty"`
	Tmpfs          map[string]string `json:",omitempty"`
	// LogConfig is --log-opt's (docker's HostConfig.LogConfig): the
	// json-file log's size cap. Nil: no cap.
	LogConfig *LogConfig `json:",omitempty"`
	// RestartPolicy is --restart (nil: "no"); Init is --init: a reaper
	// (mydocker-init) runs as pid 1 with the command as its child.
	RestartPolicy *RestartPolicy `json:",omitempty"`
	Init          bool           `json:",omitempty"`

	Status     string
	Pid        int    `json:",omitempty"`
	PidStart   uint64 `json:",omitempty"` // the pid's start time (clock ticks since boot), to tell a reused pid
	MonitorPid int    `json:",omitempty"` // the process that waits for pid: `run` in the foreground, or the shim
	// MonitorStart is MonitorPid's start time: a record whose creator and
	// monitor are both gone has nobody to finish it (see settle.go).
	MonitorStart uint64 `json:",omitempty"`
	// Creator is the mydocker process that writes the record (`run`), and
	// CreatorStart its start time: it finishes the creation or undoes it.
	Creator      int    `json:",omitempty"`
	CreatorStart uint64 `json:",omitempty"`
	// Releasing is set with the exit and cleared once what the container
	// held (cgroup, network endpoints) is released: an exited record still
	// Releasing whose monitor died had its teardown cut short.
	Releasing bool `json:",omitempty"`
	ExitCode  int
	OOMKilled bool `json:",omitempty"` // the kernel's OOM killer struck in the container's cgroup
	// Paused: its processes are frozen (pause), or may be (a pause cut
	// short): it is recorded before the freeze and forgotten after the thaw.
	Paused bool `json:",omitempty"`
	// Made: the container exists on its own, as `create` leaves it; a
	// start of it that fails or is killed goes back to this record (see
	// lifecycle states in doc/crash-safety.md), where a run's creation that
	// never started is undone.
	Made bool `json:",omitempty"`
	// RestartCount is how often the restart policy restarted it since it
	// was last started by hand; Restarting: its shim waits to restart it;
	// ManuallyStopped: stop, kill or rm -f ended its supervision.
	RestartCount    int  `json:",omitempty"`
	Restarting      bool `json:",omitempty"`
	ManuallyStopped bool `json:",omitempty"`

	Error    string `json:",omitempty"`
	Created  time.Time
	Started  time.Time `json:",omitempty"`
	Finished time.Time `json:",omitempty"`

	// Broken says why the record on disk cannot be used (List's "dead"
	// entries); never written.
	Broken string `json:"-"`
}

// Store is the set of containers under --root, locked and atomic. Its
// writes go through K (a plan keeps them), its reads of one container
// through K too (a plan answers with what it wrote).
type Store struct {
	Paths Paths
	K     kernel.Kernel // nil: a real one, logging to the standard logger
	// r, when set (Runtime.Store), lets List and Create settle records
	// whose owner died: release what they held (see settle.go).
	r *Runtime
}

func (s Store) k() kernel.Kernel {
	if s.K == nil {
		return kernel.NewReal(logrus.StandardLogger())
	}
	return s.K
}

// lock serialises changes to the store across mydocker processes.
func (s Store) lock() (func(), error) { return statefile.Lock(s.Paths.storeLock()) }

// Create validates the name (or makes one), and writes the new container's
// state, all under the store lock so two runs never take one name.
func (s Store) Create(c *Config) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	all, err := s.scanNames()
	if err != nil {
		return err
	}
	taken := func(name string) bool {
		for _, o := range all {
			if o.Name == name {
				return true
			}
		}
		return false
	}
	if c.Name == "" {
		c.Name = randomName(c.ID, taken)
	} else if taken(c.Name) {
		return fmt.Errorf("%w: %q", ErrNameTaken, c.Name)
	}
	dir := s.Paths.StateDir(c.ID)
	err = s.k().Do(kernel.Mkdir{Path: dir, Mode: 0o700,
		Reason: "the container's state directory: its record, and the files bound onto its /etc"})
	if err != nil {
		return err
	}
	err = s.k().Do(kernel.WriteState{Path: s.Paths.configPath(c.ID), Value: stored(c)})
	if p := program(c); p != nil && err == nil {
		// After the record: a creator killed in between leaves a record
		// that settles as an abandoned creation.
		err = s.k().Do(kernel.WriteState{Path: s.programPath(c.ID), Value: p.Program})
	}
	if err != nil {
		// Not recorded, or not whole: nothing would ever remove the directory.
		return oneLine(err, s.k().Do(kernel.RemoveAll{Path: dir, Reason: "the record could not be written: remove the state directory again"}))
	}
	return nil
}

// The seccomp program (18 KB for docker's profile) is kept beside the
// record, in seccomp.bpf, never in it: config.json is read and rewritten
// several times per start, and the program, as JSON's base64, made it
// five times larger (measured: 6.9 ms of JSON per run --rm, 1.4 without).
func (s Store) programPath(id string) string {
	return filepath.Join(s.Paths.StateDir(id), "seccomp.bpf")
}

// program is c's compiled seccomp filter, nil if it has none.
func program(c *Config) *security.Seccomp {
	if c.Security == nil || c.Security.Seccomp == nil || c.Security.Seccomp.Unconfined {
		return nil
	}
	return c.Security.Seccomp
}

// stored is c as config.json holds it: without its seccomp program.
func stored(c *Config) *Config {
	p := program(c)
	if p == nil || p.Program == nil {
		return c
	}
	r, sec, sc := *c, *c.Security, *p
	sc.Program = nil
	sec.Seccomp = &sc
	r.Security = &sec
	return &r
}

// LoadProgram reads c's seccomp program (seccomp.bpf) into c, for those
// that load it: the init's program and exec's helper.
func (s Store) LoadProgram(c *Config) error {
	p := program(c)
	if p == nil || p.Program != nil {
		return nil
	}
	path := s.programPath(c.ID)
	var data []byte
	if err := kernel.ReadState(s.k(), path, &data); err != nil {
		return fmt.Errorf("the seccomp filter of container %s: %w", c.Name, err)
	}
	if len(data) == 0 || len(data)%8 != 0 {
		return statefile.Corrupt(path, fmt.Errorf("%d bytes, not a BPF program", len(data)))
	}
	p.Program = data
	return nil
}

// Rename gives container id a new name, refused if another container has
// it (checked under the lock, as Create does).
func (s Store) Rename(id, name string) (*Config, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := s.scan()
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		if o.Name == name && o.ID != id {
			return nil, fmt.Errorf("%w: %q", ErrNameTaken, name)
		}
	}
	c, err := s.load(id)
	if err != nil {
		return nil, err
	}
	c.Name = name
	return c, s.write(c)
}

// Update re-reads a container's state under the lock, applies fn and writes
// it back, so concurrent updaters (shim, stop, rm) never lose a change.
func (s Store) Update(id string, fn func(c *Config) error) (*Config, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	c, err := s.load(id)
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	return c, s.write(c)
}

// write records c; the caller holds the lock.
func (s Store) write(c *Config) error {
	if p := program(c); p != nil && p.Program != nil {
		// Read from a record of an older mydocker, which held its program
		// inline: it moves beside the record before the record loses it.
		if err := s.k().Do(kernel.WriteState{Path: s.programPath(c.ID), Value: p.Program}); err != nil {
			return err
		}
	}
	return s.k().Do(kernel.WriteState{Path: s.Paths.configPath(c.ID), Value: stored(c)})
}

// Delete removes a container's state directory.
func (s Store) Delete(id string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	err = s.k().Do(removeStateDir{kernel.RemoveAll{Path: s.Paths.StateDir(id),
		Reason: "remove the container's state directory (its record, log and /etc files)"}})
	if err != nil {
		return fmt.Errorf("remove state of %s: %w", ShortID(id), err)
	}
	return nil
}

// removeStateDir is `rm -rf DIR` of a container's state directory with its
// record removed last: a kill half way leaves either the record, for rm to
// be tried again, or a directory with nothing in it, which List sweeps.
type removeStateDir struct{ kernel.RemoveAll }

func (o removeStateDir) Apply(x *kernel.Exec) error {
	entries, err := os.ReadDir(o.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != "config.json" {
			if err := os.RemoveAll(filepath.Join(o.Path, e.Name())); err != nil {
				return err
			}
		}
	}
	return o.RemoveAll.Apply(x)
}

// load reads and checks the record of container id (its directory's name):
// ErrNotExist when there is no such directory, a *BrokenError when the
// record cannot be used. It takes no lock: a record is replaced atomically.
func (s Store) load(id string) (*Config, error) {
	path := s.Paths.configPath(id)
	var c *Config
	err := kernel.ReadState(s.k(), path, &c)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(s.Paths.StateDir(id)); serr == nil && !s.isPlan() {
			return nil, &BrokenError{ID: id, Path: path, Reason: reasonMissing}
		}
		return nil, fmt.Errorf("%w: %s", ErrNotExist, id)
	}
	if err != nil {
		return nil, &BrokenError{ID: id, Path: path, Reason: readReason(err)}
	}
	if c == nil {
		return nil, &BrokenError{ID: id, Path: path, Reason: "null, not a container record"}
	}
	if err := c.check(id); err != nil {
		return c, &BrokenError{ID: id, Path: path, Reason: err.Error()}
	}
	return c, nil
}

// reasonMissing is a state directory's broken record when it has none.
const reasonMissing = "missing"

// isPlan: the store is read through a plan, which may have removed a
// record whose directory is still on disk.
func (s Store) isPlan() bool {
	_, ok := s.K.(*kernel.Plan)
	return ok
}

// readReason is what is wrong with a record that could not be decoded,
// without the path (BrokenError names it).
func readReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var pe *fs.PathError
	switch {
	case errors.As(err, &syn):
		return "not valid JSON: " + syn.Error()
	case errors.As(err, &typ):
		return "not a container record: " + typ.Error()
	case errors.As(err, &pe):
		return pe.Err.Error() // (e.g. "permission denied": the path is told already)
	}
	return err.Error()
}

// check reports what is wrong with a record read from the state directory
// named id; nil if nothing is.
func (c *Config) check(id string) error {
	switch {
	case c.ID == "":
		return errors.New("no ID")
	case c.ID != id:
		return fmt.Errorf("its ID %q is not its directory's name", ShortID(c.ID))
	case !isID(c.ID):
		return fmt.Errorf("its ID %q is not 64 hex digits", c.ID)
	case c.Name == "":
		return errors.New("no Name")
	case ValidateName(c.Name) != nil:
		return fmt.Errorf("invalid Name %q", c.Name)
	case len(c.Cmd) == 0:
		return errors.New("no Cmd")
	case c.Pid < 0 || c.MonitorPid < 0 || c.Creator < 0:
		return fmt.Errorf("a negative pid (Pid %d, MonitorPid %d, Creator %d)", c.Pid, c.MonitorPid, c.Creator)
	}
	switch c.Status {
	case StatusCreated, StatusExited:
	case StatusRunning:
		if c.Pid == 0 {
			return errors.New(`Status "running" without a Pid`)
		}
	default:
		return fmt.Errorf("unknown Status %q (created, running or exited)", c.Status)
	}
	return nil
}

// List returns every container, oldest first, after settling the records
// whose owner died (see settle.go). A record that cannot be used is in
// the list, dead (Status "dead", Broken says why): one broken container
// never hides the others.
func (s Store) List() ([]*Config, error) {
	all, settled, err := s.settle()
	if err != nil || !settled {
		return all, err
	}
	return s.scan()
}

// scan reads every container's record, oldest first.
func (s Store) scan() ([]*Config, error) {
	out, err := s.scanWith(s.entry)
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// scanWith reads every container's state directory with read (nil: it
// is gone).
func (s Store) scanWith(read func(id string) (*Config, error)) ([]*Config, error) {
	entries, err := os.ReadDir(s.Paths.containersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []*Config
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		c, err := read(e.Name())
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// entry is the record of the state directory id as a listing shows it:
// a broken one as dead, nil if it was removed right now.
func (s Store) entry(id string) (*Config, error) {
	c, err := s.load(id)
	var broken *BrokenError
	switch {
	case errors.As(err, &broken):
		return s.dead(c, broken), nil
	case errors.Is(err, ErrNotExist):
		return nil, nil
	}
	return c, err
}

// dead is the entry of a broken record: its directory's name as its id,
// and of what could be read (c, may be nil) only what ps shows; nothing
// else of it is trusted.
func (s Store) dead(c *Config, b *BrokenError) *Config {
	d := &Config{ID: b.ID, Status: StatusDead, Broken: b.Reason}
	if c != nil {
		d.Image, d.Cmd, d.Created = c.Image, c.Cmd, c.Created
		if ValidateName(c.Name) == nil {
			d.Name = c.Name
		}
	}
	if d.Created.IsZero() {
		if fi, err := os.Stat(s.Paths.StateDir(b.ID)); err == nil {
			d.Created = fi.ModTime()
		}
	}
	return d
}

// Get finds a container by name, full id or unique id prefix. A dead one
// is its *BrokenError: only rm can act on it.
func (s Store) Get(ref string) (*Config, error) {
	c, err := s.Lookup(ref)
	if err == nil && c.Broken != "" {
		return nil, &BrokenError{ID: c.ID, Path: s.Paths.configPath(c.ID), Reason: c.Broken}
	}
	return c, err
}

// Lookup is Get that also finds dead containers (by their directory's
// name, or the name their broken record gives), for rm.
func (s Store) Lookup(ref string) (*Config, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty name", ErrNotExist)
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var matches []*Config
	for _, c := range all {
		if c.Name == ref || c.ID == ref {
			return c, nil
		}
		if strings.HasPrefix(c.ID, ref) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrNotExist, ref)
	case 1:
		return matches[0], nil
	}
	return nil, fmt.Errorf("container id prefix %q is ambiguous (%d containers match)", ref, len(matches))
}
