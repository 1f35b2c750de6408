package kernel

import (
	"fmt"
	"sync"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Exec holds what real ops share: one iptables handle (making it execs
// `iptables --version`, so commands that never touch rules never pay for
// it) and one netlink handle per network namespace, opened from the pid
// with netlink.NewHandleAt, so no thread of mydocker ever switches
// namespace for a link, address or route.
type Exec struct {
	mu      sync.Mutex
	ipt     *iptables.IPTables
	iptErr  error
	iptOnce sync.Once
	handles map[int]*netlink.Handle
}

// IPTables is the iptables handle, made on first use.
func (x *Exec) IPTables() (*iptables.IPTables, error) {
	x.iptOnce.Do(func() { x.ipt, x.iptErr = iptables.New() })
	return x.ipt, x.iptErr
}

// Netlink is a handle in the network namespace of pid (0: the host's).
func (x *Exec) Netlink(pid int) (*netlink.Handle, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if h, ok := x.handles[pid]; ok {
		return h, nil
	}
	var h *netlink.Handle
	var err error
	// Route sockets only: links, addresses, routes and neighbours are all
	// mydocker asks of netlink, and a handle of every family also needs
	// xfrm_user and nfnetlink loaded (a stock kernel that has not loaded
	// them says "protocol not supported").
	if pid == 0 {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	} else {
		var ns netns.NsHandle
		ns, err = netns.GetFromPid(pid)
		if err != nil {
			return nil, fmt.Errorf("open the network namespace of pid %d: %w", pid, err)
		}
		defer ns.Close()
		h, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("netlink handle in the network namespace of pid %d: %w", pid, err)
	}
	if x.handles == nil {
		x.handles = map[int]*netlink.Handle{}
	}
	x.handles[pid] = h
	return h, nil
}

// Close releases the netlink handles.
func (x *Exec) Close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for pid, h := range x.handles {
		h.Close()
		delete(x.handles, pid)
	}
}
