// Package container is the container lifecycle: ids and names, the state
// store, the init process and its root filesystem, images, logs, and the
// shim that watches a detached container.
package container

import "path/filepath"

// Paths are where mydocker keeps its state (--root) and data (--data-root).
type Paths struct {
	Root     string // e.g. /var/run/mydocker
	DataRoot string // e.g. /var/lib/mydocker
}

func (p Paths) containersDir() string { return filepath.Join(p.Root, "containers") }

// StateDir holds config.json, container.log, hosts, resolv.conf, hostname.
func (p Paths) StateDir(id string) string { return filepath.Join(p.containersDir(), id) }

func (p Paths) configPath(id string) string { return filepath.Join(p.StateDir(id), "config.json") }

// LogPath is where a detached container's output goes.
func (p Paths) LogPath(id string) string { return filepath.Join(p.StateDir(id), "container.log") }

// ShimLogPath is where a detached container's shim narrates what it does
// once the container runs (its teardown); stop and rm -f show it.
func (p Paths) ShimLogPath(id string) string { return filepath.Join(p.StateDir(id), "shim.log") }

// storeLock serialises every change to the set of containers.
func (p Paths) storeLock() string { return filepath.Join(p.containersDir(), ".lock") }

// LayerDir holds a container's overlay upper, work and merged directories.
func (p Paths) LayerDir(id string) string { return filepath.Join(p.DataRoot, "containers", id) }

// ImagesDir holds one unpacked root filesystem per image.
func (p Paths) ImagesDir() string { return filepath.Join(p.DataRoot, "images") }

// ImageDir is the root filesystem of the image called name.
func (p Paths) ImageDir(name string) string { return filepath.Join(p.ImagesDir(), name) }
