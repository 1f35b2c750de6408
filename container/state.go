package container

import (
	"errors"
	"fmt"
	"os"
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
)

// Sentinel errors callers branch on.
var (
	ErrNotExist  = errors.New("no such container")
	ErrRunning   = errors.New("container is running")
	ErrNameTaken = errors.New("container name is already in use")
)

// Mount is one -v volume.
type Mount struct {
	Source      string // host path
	Destination string // path in the container
	ReadOnly    bool   `json:",omitempty"`
}

// Config is a container's config.json: what it was asked to be and what
// became of it. Field names are an on-disk format: add, never rename.
type Config struct {
	ID          string
	Name        string
	Image       string
	ImagePath   string // the image's root filesystem (overlay lowerdir)
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
	DNS         []string              `json:",omitempty"` // --dns
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

	Status     string
	Pid        int    `json:",omitempty"`
	PidStart   uint64 `json:",omitempty"` // the pid's start time (clock ticks since boot), to tell a reused pid
	MonitorPid int    `json:",omitempty"` // the process that waits for pid: `run` in the foreground, or the shim
	ExitCode   int
	OOMKilled  bool   `json:",omitempty"` // the kernel's OOM killer struck in the container's cgroup
	Error      string `json:",omitempty"`
	Created    time.Time
	Started    time.Time `json:",omitempty"`
	Finished   time.Time `json:",omitempty"`
}

// Store is the set of containers under --root, locked and atomic. Its
// writes go through K (a plan keeps them), its reads of one container
// through K too (a plan answers with what it wrote).
type Store struct {
	Paths Paths
	K     kernel.Kernel // nil: a real one, logging to the standard logger
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
	all, err := s.listLocked()
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
	if err := s.k().Do(kernel.WriteState{Path: s.Paths.configPath(c.ID), Value: c}); err != nil {
		// Not recorded: nothing would ever remove the directory.
		return errors.Join(err, s.k().Do(kernel.RemoveAll{Path: dir, Reason: "the record could not be written: remove the state directory again"}))
	}
	return nil
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
	return c, s.k().Do(kernel.WriteState{Path: s.Paths.configPath(id), Value: c})
}

// Delete removes a container's state directory.
func (s Store) Delete(id string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	err = s.k().Do(kernel.RemoveAll{Path: s.Paths.StateDir(id),
		Reason: "remove the container's state directory (its record, log and /etc files)"})
	if err != nil {
		return fmt.Errorf("remove state of %s: %w", ShortID(id), err)
	}
	return nil
}

func (s Store) load(id string) (*Config, error) {
	var c Config
	if err := kernel.ReadState(s.k(), s.Paths.configPath(id), &c); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotExist, id)
		}
		return nil, err
	}
	return &c, nil
}

// List returns every container, oldest first.
func (s Store) List() ([]*Config, error) { return s.listLocked() }

func (s Store) listLocked() ([]*Config, error) {
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
		c, err := s.load(e.Name())
		if errors.Is(err, ErrNotExist) {
			continue // being created or removed right now
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Get finds a container by name, full id or unique id prefix.
func (s Store) Get(ref string) (*Config, error) {
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
