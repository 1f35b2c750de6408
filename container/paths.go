// Package container is the container lifecycle: ids and names, the state
// store, the init process and its root filesystem (on its image's layers:
// the images themselves are package container/image's), logs, and the
// shim that watches a detached container.
//
// The init's steps (initOps) are computed here and narrated here, but done
// by the init itself in C, before any Go runtime starts: initprog.go turns
// them into the program package cinit runs, initfollow.go narrates each
// step as the init reports it.
//
// # Crash-safe records
//
// Any mydocker process may be killed at any instant. A container's record
// (<root>/containers/<id>/config.json) is written atomically under the
// store lock, before anything else exists for the container, and always
// names the process that answers for it: its Creator (`run`, with its start
// time) while it is being made, then its monitor (MonitorPid and
// MonitorStart: the shim of a detached container, or `run` in the
// foreground), and, while an exit is being released, the process releasing
// it. Its steps:
//
//	created   record written; then the init started and recorded (Pid),
//	          its cgroup and network made
//	running   recorded just before the go signal: the command runs
//	exited    the exit recorded (Releasing), then the cgroup and network
//	          endpoints released (Releasing cleared), or with --rm the
//	          layer and state directory removed
//
// `create` stops after the record and the layer, and marks it Made with
// no Creator: a Created container at rest, owned by nobody. `start` (and
// the shim restarting a container per --restart) claims a Created or
// exited record back to "created", Made, itself its Creator, and goes on
// as run does; a start whose owner died is undone back to that record
// (Created, or exited if it ran before), never removed. See
// doc/crash-safety.md for the table of states.
//
// Whatever the container holds is named by its id (cgroup mydocker/<id>,
// layer <data-root>/containers/<id>, endpoints owned by the id in the
// network files), and its release is idempotent: what is already gone is
// success, so a teardown cut short is simply done again.
//
// Every List (and so Get, ps, rm, run's name check) first settles, under the
// store lock, the records whose owner is dead (pid and start time) and whose
// init is dead: a "created" one is an abandoned creation, undone (teardown,
// layer, state directory: the state before the run), or, Made, an
// abandoned start, undone back to its record; a "running" one died
// with nobody to record it: it is recorded exited with code 255 (as docker
// records a container it finds dead) and released; an exited one still
// Releasing, or with --rm, is released or removed. The settling process
// records itself as the owner before it acts, outside the lock, so no two
// commands act on one record, and one killed meanwhile leaves the record
// for the next. A record whose owner lives, or whose init lives, is never
// touched.
//
// # Broken records
//
// A record is checked after parsing: null, {}, not JSON, an ID that is not
// its directory's name, an unknown Status, an invalid Name, no Cmd, a
// negative pid... are one error naming the file and what is wrong
// (*BrokenError: inspect, stop, exec, logs say it). It never hides the
// others: List gives it as a dead entry (ps -a: "Dead (config.json:
// REASON)"), and rm (rm -f if processes remain in its cgroup, which are
// killed) removes it by its directory's name (or a prefix): its cgroup,
// its endpoints in every network, its layer and its state directory. A
// state directory without config.json is dead the same way ("missing"),
// unless it holds nothing but temporary files: then it is the remains of
// a Create (which holds the lock from mkdir to the write) or a Delete
// killed half way, owns nothing, and List removes it.
//
// # Output: the log and attach
//
// Whoever holds a container's output logs it: the shim of a detached
// container, or the `run` of a foreground one (which also passes it on to
// its caller). stdout and stderr are two pipes, so the log (docker's
// json-file, container.log and its rotations: package logfile) keeps them
// apart; a terminal (-t) is one stream, stdout, and so is the one pipe of
// a foreground run whose caller's stdout and stderr are one file (its
// terminal), which keeps their order there. The shim also serves the
// container's stdio, live, on attach.sock in the state directory, for
// `attach` (the protocol and its limits: attachserve.go). Neither the log
// nor the socket is state: a shim killed leaves a socket nobody answers
// (attach says so; the record is settled as usual), and rm removes both
// with the state directory.
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

// LogPath is where a container's output is logged (docker's json-file;
// rotated files beside it: container.log.1, .2).
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

// ImageStoreDir holds the store of registry and archive images (package
// container/image): blobs, layers by chain id, records, tags.
func (p Paths) ImageStoreDir() string { return filepath.Join(p.DataRoot, "image") }

// ImageDir is the root filesystem of the image called name.
func (p Paths) ImageDir(name string) string { return filepath.Join(p.ImagesDir(), name) }
