package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-iptables/iptables"
	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/narrate"
)

// kernel is the network package's side of the narration seam: one method per
// kernel change, named in iproute2 / iptables terms. Each method logs
// "// why" and the exact "$ command", then performs it through netlink,
// go-iptables or /proc/sys. Every lookup a change depends on happens inside
// the closure handed to the narrator, so in dry-run mode nothing at all is
// touched (not even a read that would fail because an earlier step was not
// really done).
type kernel struct {
	n *narrate.Narrator

	iptOnce sync.Once
	ipt     *iptables.IPTables
	iptErr  error
}

func newKernel(n *narrate.Narrator) *kernel { return &kernel{n: n} }

func (k *kernel) do(why string, argv []string, f func() error) error {
	n := k.n.WithFields(logrus.Fields{"source": callerSource()})
	start := time.Now()
	defer func() { n.Log().Debugf("(%s took %v)", argv[0], time.Since(start).Round(10*time.Microsecond)) }()
	if err := n.Do(why, narrate.Quote(argv...), f); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// callerSource is "network/bridge.go:42" for the first caller outside the
// seam (ops*.go) and the logging helpers, so a narrated step points at the
// code that asked for it.
func callerSource() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		base := filepath.Base(f.File)
		helper := strings.HasSuffix(f.Function, ").report") || strings.HasSuffix(f.Function, ").timed") ||
			f.Function == "github.com/mydocker/mydocker/network.callerSource"
		if !(strings.HasPrefix(base, "ops") && filepath.Base(filepath.Dir(f.File)) == "network") && !helper {
			return fmt.Sprintf("%s/%s:%d", filepath.Base(filepath.Dir(f.File)), base, f.Line)
		}
		if !more {
			return ""
		}
	}
}

// LinkAddBridge: ip link add NAME type bridge
func (k *kernel) LinkAddBridge(name string) error {
	return k.do(fmt.Sprintf("create the bridge %q: the virtual switch the network's containers plug into", name),
		[]string{"ip", "link", "add", name, "type", "bridge"},
		func() error { return netlink.LinkAdd(&netlink.Bridge{LinkAttrs: linkAttrs(name)}) })
}

// linkAttrs are the attributes of a new link as `ip link add` sets them
// (the kernel's defaults, e.g. txqueuelen 1000, not netlink's zero values).
func linkAttrs(name string) netlink.LinkAttrs {
	la := netlink.NewLinkAttrs()
	la.Name = name
	return la
}

// broadcast is the subnet's broadcast address, which netlink sets with an
// address and `ip addr add` only when told (brd).
func broadcast(n *net.IPNet) string {
	ip := n.IP.To4()
	b := make(net.IP, 4)
	for i := range b {
		b[i] = ip[i] | ^n.Mask[i]
	}
	return b.String()
}

// AddrAdd: ip addr add CIDR brd BROADCAST dev NAME
func (k *kernel) AddrAdd(dev string, addr *net.IPNet, why string) error {
	return k.do(why, []string{"ip", "addr", "add", addr.String(), "brd", broadcast(addr), "dev", dev}, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		return netlink.AddrAdd(l, &netlink.Addr{IPNet: addr})
	})
}

// AddrDel: ip addr del CIDR dev NAME
func (k *kernel) AddrDel(dev string, addr *net.IPNet, why string) error {
	return k.do(why, []string{"ip", "addr", "del", addr.String(), "dev", dev}, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		return netlink.AddrDel(l, &netlink.Addr{IPNet: addr})
	})
}

// LinkSetUp: ip link set dev NAME up
func (k *kernel) LinkSetUp(dev, why string) error {
	return k.do(why, []string{"ip", "link", "set", "dev", dev, "up"}, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	})
}

// LinkDel: ip link del NAME. A link that is already gone is not an error
// (teardown is idempotent), and then nothing is narrated.
func (k *kernel) LinkDel(dev, why string) error {
	if !k.n.DryRun() {
		if _, err := netlink.LinkByName(dev); err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return nil
			}
		}
	}
	return k.do(why, []string{"ip", "link", "del", dev}, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return nil
			}
			return err
		}
		err = netlink.LinkDel(l)
		if err != nil {
			if _, lerr := netlink.LinkByName(dev); errors.As(lerr, new(netlink.LinkNotFoundError)) {
				return nil // deleted meanwhile (a concurrent teardown, or its netns died)
			}
		}
		return err
	})
}

// LinkAddVeth creates a veth pair whose peer is born inside the network
// namespace of pid, already named peer and with the given MAC:
//
//	ip link add HOST type veth peer name eth0 address MAC netns PID
//
// That is the same end state as "create, move, rename", in one atomic step
// with no temporary name that could clash in the host's namespace.
//
// A nil mac leaves the peer's MAC to the kernel (no "address" in the command).
func (k *kernel) LinkAddVeth(host, peer string, mac net.HardwareAddr, pid int) error {
	argv := []string{"ip", "link", "add", host, "type", "veth", "peer", "name", peer}
	if mac != nil {
		argv = append(argv, "address", mac.String())
	}
	return k.do(fmt.Sprintf("create a veth pair (a virtual cable): %s stays on the host, %s is born in the netns of pid %d", host, peer, pid),
		append(argv, "netns", strconv.Itoa(pid)),
		func() error {
			return netlink.LinkAdd(&netlink.Veth{
				LinkAttrs:        linkAttrs(host),
				PeerName:         peer,
				PeerTxQLen:       -1,
				PeerHardwareAddr: mac,
				PeerNamespace:    netlink.NsPid(pid),
			})
		})
}

// LinkSetMaster: ip link set dev VETH master BRIDGE
func (k *kernel) LinkSetMaster(dev, bridge string) error {
	return k.do(fmt.Sprintf("plug %s into the bridge %s", dev, bridge),
		[]string{"ip", "link", "set", "dev", dev, "master", bridge}, func() error {
			l, err := netlink.LinkByName(dev)
			if err != nil {
				return err
			}
			br, err := netlink.LinkByName(bridge)
			if err != nil {
				return err
			}
			return netlink.LinkSetMasterByIndex(l, br.Attrs().Index)
		})
}

// LinkSetHairpin: ip link set dev VETH type bridge_slave hairpin on
func (k *kernel) LinkSetHairpin(dev string) error {
	return k.do(fmt.Sprintf("hairpin mode on %s: the bridge may send a frame back out of the port it came in on, so the container reaches its own published ports", dev),
		[]string{"ip", "link", "set", "dev", dev, "type", "bridge_slave", "hairpin", "on"}, func() error {
			l, err := netlink.LinkByName(dev)
			if err != nil {
				return err
			}
			return netlink.LinkSetHairpin(l, true)
		})
}

// Sysctl: sysctl -w KEY=VALUE, done by writing /proc/sys. Nothing is
// narrated or written when the value is already right.
func (k *kernel) Sysctl(key, value, why string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if strings.Contains(key, "/") { // an interface name with a dot: sysctl's "/" form
		path = "/proc/sys/" + key
	}
	if cur, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	return k.do(why, []string{"sysctl", "-w", key + "=" + value}, func() error {
		return os.WriteFile(path, []byte(value+"\n"), 0o644)
	})
}

// sysctlIface names a per-interface sysctl key, in the "/" form when the
// interface name holds a dot (which sysctl would read as a separator).
func sysctlIface(family, dev, leaf string) string {
	if strings.Contains(dev, ".") {
		return "net/" + family + "/conf/" + dev + "/" + leaf
	}
	return "net." + family + ".conf." + dev + "." + leaf
}

// nsKernel performs steps inside the network namespace of a process through
// a netlink handle opened in that namespace (netlink.NewHandleAt), so no Go
// thread of mydocker ever switches namespace. Steps are narrated as
// "nsenter -t PID -n ip ...".
type nsKernel struct {
	k   *kernel
	pid int
	h   *netlink.Handle
}

func (k *kernel) InNetns(pid int) *nsKernel { return &nsKernel{k: k, pid: pid} }

func (nk *nsKernel) handle() (*netlink.Handle, error) {
	if nk.h != nil {
		return nk.h, nil
	}
	ns, err := netns.GetFromPid(nk.pid)
	if err != nil {
		return nil, fmt.Errorf("open the network namespace of pid %d: %w", nk.pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in the network namespace of pid %d: %w", nk.pid, err)
	}
	nk.h = h
	return h, nil
}

// Close releases the handle, if one was opened.
func (nk *nsKernel) Close() {
	if nk.h != nil {
		nk.h.Close()
		nk.h = nil
	}
}

func (nk *nsKernel) do(why string, argv []string, f func(h *netlink.Handle) error) error {
	full := append([]string{"nsenter", "-t", strconv.Itoa(nk.pid), "-n"}, argv...)
	return nk.k.do(why, full, func() error {
		h, err := nk.handle()
		if err != nil {
			return err
		}
		return f(h)
	})
}

// AddrAdd: nsenter -t PID -n ip addr add CIDR dev DEV
func (nk *nsKernel) AddrAdd(dev string, addr *net.IPNet) error {
	return nk.do(fmt.Sprintf("give the container's %s its address %s", dev, addr), []string{"ip", "addr", "add", addr.String(), "brd", broadcast(addr), "dev", dev},
		func(h *netlink.Handle) error {
			l, err := h.LinkByName(dev)
			if err != nil {
				return err
			}
			return h.AddrAdd(l, &netlink.Addr{IPNet: addr})
		})
}

// LinkSetUp: nsenter -t PID -n ip link set dev DEV up
func (nk *nsKernel) LinkSetUp(dev, why string) error {
	return nk.do(why, []string{"ip", "link", "set", "dev", dev, "up"}, func(h *netlink.Handle) error {
		l, err := h.LinkByName(dev)
		if err != nil {
			return err
		}
		return h.LinkSetUp(l)
	})
}

// RouteAddDefault: nsenter -t PID -n ip route add default via GW
func (nk *nsKernel) RouteAddDefault(gw net.IP, dev string) error {
	return nk.do(fmt.Sprintf("send everything outside the subnet to the gateway %s (the bridge)", gw),
		[]string{"ip", "route", "add", "default", "via", gw.String()}, func(h *netlink.Handle) error {
			l, err := h.LinkByName(dev)
			if err != nil {
				return err
			}
			return h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw, Scope: netlink.SCOPE_UNIVERSE})
		})
}

// links lists the link names in the namespace (a read, not narrated).
func (nk *nsKernel) linkNames() (map[string]bool, bool, error) {
	h, err := nk.handle()
	if err != nil {
		return nil, false, err
	}
	ls, err := h.LinkList()
	if err != nil {
		return nil, false, err
	}
	names := map[string]bool{}
	for _, l := range ls {
		names[l.Attrs().Name] = true
	}
	rs, err := h.RouteList(nil, unix.AF_INET)
	if err != nil {
		return nil, false, err
	}
	hasDefault := false
	for _, r := range rs {
		hasDefault = hasDefault || isDefaultRoute(r)
	}
	return names, hasDefault, nil
}

func isDefaultRoute(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}
