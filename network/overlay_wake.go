package network

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/kv"
	"github.com/mydocker/mydocker/internal/names"
	"github.com/mydocker/mydocker/internal/procfs"
)

// A container's start (or its disconnect, while others stay) on a host
// whose watcher is alive does not dial etcd: its record is the truth for
// this host, and the watcher, dialled already, makes etcd's names of this
// host's containers follow the records (put with the host's lease, delete
// those no longer local) on every wake. The start wakes it with a signal;
// the other hosts see the name a few ms later (eventually consistent, as
// docker's overlay's names are). A dead watcher: the start dials and puts
// itself, as before, and the next command starts another watcher. A
// command that has dialled etcd already (the host's first container: its
// join) puts the name itself too: it costs a put, and the name is in etcd
// before the other hosts hear of this one.

// wakeSignal wakes a watcher. SIGWINCH because its default action is to
// ignore it: a wake sent before a new watcher listens cannot kill it (the
// watcher reconciles every name as it starts), and the watcher, in a
// session of its own without a terminal, gets it from nobody else.
const wakeSignal = syscall.SIGWINCH

// liveWatcher reports whether nw's recorded watcher is alive (pid and
// start time, as owners are checked) and is another process.
func liveWatcher(nw *Network) bool {
	o := nw.Overlay
	return o != nil && o.WatcherPid != 0 && o.WatcherPid != os.Getpid() && procfs.Alive(o.WatcherPid, o.WatcherStart)
}

// wakeWatcher is the op asking the watcher to publish (or withdraw) ep's
// name in etcd.
func wakeWatcher(nw *Network, ep *Endpoint, what string) kernel.Op {
	return kernel.Signal{Pid: nw.Overlay.WatcherPid, Sig: wakeSignal,
		Reason: fmt.Sprintf("wake the watcher of network %s: it %s container %s's name in etcd, bound to this host's lease (its log tells)", nw.Name, what, names.ShortID(ep.ID))}
}

// byWatcher reports whether ep's name is the watcher's to put or delete:
// its watcher alive, and no client of this process dialled already.
func byWatcher(nw *Network) bool {
	return liveWatcher(nw) && dialled(nw.Overlay.KV) == nil
}

// dialled is this process's client of etcd at endpoints, if it has one.
func dialled(endpoints []string) *kv.Client {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	return clients[strings.Join(endpoints, ",")]
}
