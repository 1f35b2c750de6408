package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Network objects, as named in Effects:
//
//	link   NAME                       a network interface
//	addr   CIDR dev NAME              an address on an interface
//	route  default                    the default route of the main table
//	route  DST via GW dev NAME        a route of the main table (ops_vxlan.go)
//	sysctl KEY=VALUE                  a sysctl with that value
//
// Object.In is the pid whose network namespace holds the link, address or
// route (0: the host's). A pid whose process is gone holds nothing.

func init() {
	existsBy["link"] = linkExists
	existsBy["addr"] = addrExists
	existsBy["route"] = routeExists
	existsBy["sysctl"] = sysctlExists
}

// LinkObj names a link; AddrObj an address on a link.
func LinkObj(in int, name string) Object { return Object{Kind: "link", In: in, Name: name} }
func AddrObj(in int, dev string, addr *net.IPNet) Object {
	return Object{Kind: "addr", In: in, Name: addr.String() + " dev " + dev}
}

// DefaultRoute names the default route of pid's network namespace.
func DefaultRoute(in int) Object { return Object{Kind: "route", In: in, Name: "default"} }

// SysctlObj names a sysctl holding value.
func SysctlObj(key, value string) Object { return Object{Kind: "sysctl", Name: key + "=" + value} }

func where(pid int) Where {
	if pid == 0 {
		return Host
	}
	return Netns(pid)
}

// notFound reports a link that does not exist.
func notFound(err error) bool { return errors.As(err, new(netlink.LinkNotFoundError)) }

// handleFor is the netlink handle of the namespace of in, or ok=false when
// the process (and so its namespace) is gone.
func handleFor(x *Exec, in int) (h *netlink.Handle, ok bool, err error) {
	h, err = x.Netlink(in)
	if err != nil && in != 0 && (errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH)) {
		return nil, false, nil
	}
	return h, err == nil, err
}

// link is the handle in the network namespace of pid and the link dev in it.
func (x *Exec) link(pid int, dev string) (*netlink.Handle, netlink.Link, error) {
	h, err := x.Netlink(pid)
	if err != nil {
		return nil, nil, err
	}
	l, err := h.LinkByName(dev)
	if err != nil {
		return nil, nil, err
	}
	return h, l, nil
}

func linkExists(x *Exec, o Object) (bool, error) {
	h, ok, err := handleFor(x, o.In)
	if !ok {
		return false, err
	}
	if _, err := h.LinkByName(o.Name); err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func addrExists(x *Exec, o Object) (bool, error) {
	cidr, dev, found := strings.Cut(o.Name, " dev ")
	if !found {
		return false, fmt.Errorf("kernel: address %q: want CIDR dev NAME", o.Name)
	}
	h, ok, err := handleFor(x, o.In)
	if !ok {
		return false, err
	}
	l, err := h.LinkByName(dev)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, err
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.IPNet.String() == cidr {
			return true, nil
		}
	}
	return false, nil
}

func routeExists(x *Exec, o Object) (bool, error) {
	if o.Name != "default" {
		return viaRouteExists(x, o)
	}
	h, ok, err := handleFor(x, o.In)
	if !ok {
		return false, err
	}
	rs, err := h.RouteList(nil, unix.AF_INET)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if IsDefaultRoute(r) {
			return true, nil
		}
	}
	return false, nil
}

// IsDefaultRoute reports a route to 0.0.0.0/0.
func IsDefaultRoute(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}

// sysctlPath is the /proc/sys file of a key, in sysctl's dotted form or,
// for a key naming an interface with a dot, in its "/" form.
func sysctlPath(key string) string {
	if strings.Contains(key, "/") {
		return "/proc/sys/" + key
	}
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

func sysctlExists(_ *Exec, o Object) (bool, error) {
	if o.In != 0 {
		return false, fmt.Errorf("kernel: cannot read the sysctls of pid %d", o.In)
	}
	key, value, _ := strings.Cut(o.Name, "=")
	cur, err := os.ReadFile(sysctlPath(key))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return strings.TrimSpace(string(cur)) == value, nil
}

// linkAttrs are the attributes of a new link as `ip link add` sets them
// (the kernel's defaults, e.g. txqueuelen 1000, not netlink's zero values).
func linkAttrs(name string) netlink.LinkAttrs {
	la := netlink.NewLinkAttrs()
	la.Name = name
	return la
}

// Broadcast is the subnet's broadcast address, which netlink sets with an
// address and `ip addr add` only when told (brd).
func Broadcast(n *net.IPNet) string {
	ip := n.IP.To4()
	b := make(net.IP, 4)
	for i := range b {
		b[i] = ip[i] | ^n.Mask[i]
	}
	return b.String()
}

// BridgeAdd is `ip link add NAME type bridge`.
type BridgeAdd struct {
	Name   string
	Reason string
}

func (b BridgeAdd) Why() string { return b.Reason }
func (b BridgeAdd) Command() Command {
	return Command{Argv: []string{"ip", "link", "add", b.Name, "type", "bridge"}}
}
func (b BridgeAdd) Apply(x *Exec) error {
	h, err := x.Netlink(0)
	if err != nil {
		return err
	}
	return h.LinkAdd(&netlink.Bridge{LinkAttrs: linkAttrs(b.Name)})
}
func (b BridgeAdd) Effects() []Effect { return []Effect{Makes(LinkObj(0, b.Name))} }

// VethAdd creates a veth pair whose peer is born inside the network
// namespace of Pid, already named Peer and with the given MAC:
//
//	ip link add HOST type veth peer name PEER address MAC netns PID
//
// That is the same end state as "create, move, rename", in one atomic step
// with no temporary name that could clash in the host's namespace. A nil
// MAC leaves the peer's to the kernel (no "address" in the command).
type VethAdd struct {
	Host, Peer string
	MAC        net.HardwareAddr
	Pid        int
	MTU        int // of both ends; 0: the kernel's (1500)
	Reason     string
}

func (v VethAdd) Why() string { return v.Reason }
func (v VethAdd) Command() Command {
	argv := []string{"ip", "link", "add", v.Host, "type", "veth", "peer", "name", v.Peer}
	if v.MTU > 0 {
		mtu := strconv.Itoa(v.MTU)
		argv = []string{"ip", "link", "add", v.Host, "mtu", mtu, "type", "veth", "peer", "name", v.Peer, "mtu", mtu}
	}
	if v.MAC != nil {
		argv = append(argv, "address", v.MAC.String())
	}
	return Command{Argv: append(argv, "netns", strconv.Itoa(v.Pid))}
}
func (v VethAdd) Apply(x *Exec) error {
	h, err := x.Netlink(0)
	if err != nil {
		return err
	}
	la := linkAttrs(v.Host)
	la.MTU = v.MTU
	return h.LinkAdd(&netlink.Veth{
		LinkAttrs:        la,
		PeerMTU:          uint32(v.MTU),
		PeerName:         v.Peer,
		PeerTxQLen:       -1, // the kernel's default, as ip(8)
		PeerHardwareAddr: v.MAC,
		PeerNamespace:    netlink.NsPid(v.Pid),
	})
}
func (v VethAdd) Effects() []Effect {
	return []Effect{Makes(LinkObj(0, v.Host)), Makes(LinkObj(v.Pid, v.Peer))}
}

// LinkDel is `ip link del NAME`. A link already gone is skipped, and one
// deleted by someone else meanwhile (a concurrent teardown, or its netns
// died) is success. The kernel takes the link's addresses and routes with
// it, and a veth's peer (Peer, in the namespace of PeerIn): a plan does too.
type LinkDel struct {
	In     int
	Name   string
	Peer   string // a veth's other end, which goes with it
	PeerIn int
	Reason string
}

func (d LinkDel) Why() string { return d.Reason }
func (d LinkDel) Command() Command {
	return Command{In: where(d.In), Argv: []string{"ip", "link", "del", d.Name}}
}
func (d LinkDel) Apply(x *Exec) error {
	h, ok, err := handleFor(x, d.In)
	if !ok {
		return err
	}
	l, err := h.LinkByName(d.Name)
	if err != nil {
		if notFound(err) {
			return nil
		}
		return err
	}
	if err := h.LinkDel(l); err != nil {
		if _, lerr := h.LinkByName(d.Name); notFound(lerr) {
			return nil // deleted meanwhile
		}
		return err
	}
	return nil
}
func (d LinkDel) Effects() []Effect { return []Effect{Clears(LinkObj(d.In, d.Name))} }

// Plan drops, with the link, its peer and what the plan put on either
// (addresses, the default route through it, its per-interface sysctls).
func (d LinkDel) Plan(p *Plan) error {
	gone := map[Object]bool{LinkObj(d.In, d.Name): true}
	if d.Peer != "" {
		gone[LinkObj(d.PeerIn, d.Peer)] = true
	}
	for _, op := range p.Ops {
		var dev Object
		var obj Object
		switch o := op.(type) {
		case AddrAdd:
			dev, obj = LinkObj(o.In, o.Dev), AddrObj(o.In, o.Dev, o.Addr)
		case RouteAddDefault:
			dev, obj = LinkObj(o.In, o.Dev), DefaultRoute(o.In)
		case onLink: // a route, neighbour or fdb entry of a vxlan device
			dev, obj = o.onLink()
		case Sysctl: // a per-interface one goes with the interface
			for g := range gone {
				if g.In == 0 && (strings.Contains(o.Key, ".conf."+g.Name+".") || strings.Contains(o.Key, "/conf/"+g.Name+"/")) {
					dev = g
				}
			}
			obj = SysctlObj(o.Key, o.Value)
		default:
			continue
		}
		if gone[dev] && p.model[obj] {
			p.model[obj] = false
		}
	}
	for o := range gone {
		if has, _ := p.Exists(o); has {
			p.model[o] = false
		}
	}
	return nil
}

// LinkSetUp is `ip link set dev NAME up` (in the namespace of In).
type LinkSetUp struct {
	In     int
	Name   string
	Reason string
}

func (u LinkSetUp) Why() string { return u.Reason }
func (u LinkSetUp) Command() Command {
	return Command{In: where(u.In), Argv: []string{"ip", "link", "set", "dev", u.Name, "up"}}
}
func (u LinkSetUp) Apply(x *Exec) error {
	h, l, err := x.link(u.In, u.Name)
	if err != nil {
		return err
	}
	return h.LinkSetUp(l)
}

// LinkSetMaster is `ip link set dev NAME master BRIDGE`.
type LinkSetMaster struct {
	Name, Master string
	Reason       string
}

func (m LinkSetMaster) Why() string { return m.Reason }
func (m LinkSetMaster) Command() Command {
	return Command{Argv: []string{"ip", "link", "set", "dev", m.Name, "master", m.Master}}
}
func (m LinkSetMaster) Apply(x *Exec) error {
	h, l, err := x.link(0, m.Name)
	if err != nil {
		return err
	}
	br, err := h.LinkByName(m.Master)
	if err != nil {
		return err
	}
	return h.LinkSetMasterByIndex(l, br.Attrs().Index)
}

// LinkSetHairpin is `ip link set dev NAME type bridge_slave hairpin on`.
type LinkSetHairpin struct {
	Name   string
	Reason string
}

func (hp LinkSetHairpin) Why() string { return hp.Reason }
func (hp LinkSetHairpin) Command() Command {
	return Command{Argv: []string{"ip", "link", "set", "dev", hp.Name, "type", "bridge_slave", "hairpin", "on"}}
}
func (hp LinkSetHairpin) Apply(x *Exec) error {
	h, l, err := x.link(0, hp.Name)
	if err != nil {
		return err
	}
	return h.LinkSetHairpin(l, true)
}

// AddrAdd is `ip addr add CIDR brd BROADCAST dev DEV` (in the namespace of
// In); a /31 or /32 has no broadcast address (netlink sets none), and no brd.
type AddrAdd struct {
	In     int
	Dev    string
	Addr   *net.IPNet
	Reason string
}

func (a AddrAdd) Why() string { return a.Reason }
func (a AddrAdd) Command() Command {
	argv := []string{"ip", "addr", "add", a.Addr.String()}
	if ones, bits := a.Addr.Mask.Size(); bits-ones > 1 {
		argv = append(argv, "brd", Broadcast(a.Addr))
	}
	return Command{In: where(a.In), Argv: append(argv, "dev", a.Dev)}
}
func (a AddrAdd) Apply(x *Exec) error {
	h, l, err := x.link(a.In, a.Dev)
	if err != nil {
		return err
	}
	return h.AddrAdd(l, &netlink.Addr{IPNet: a.Addr})
}
func (a AddrAdd) Effects() []Effect { return []Effect{Makes(AddrObj(a.In, a.Dev, a.Addr))} }

// AddrDel is `ip addr del CIDR dev DEV`; an address already gone is
// skipped.
type AddrDel struct {
	In     int
	Dev    string
	Addr   *net.IPNet
	Reason string
}

func (a AddrDel) Why() string { return a.Reason }
func (a AddrDel) Command() Command {
	return Command{In: where(a.In), Argv: []string{"ip", "addr", "del", a.Addr.String(), "dev", a.Dev}}
}
func (a AddrDel) Apply(x *Exec) error {
	h, l, err := x.link(a.In, a.Dev)
	if err != nil {
		return err
	}
	return h.AddrDel(l, &netlink.Addr{IPNet: a.Addr})
}
func (a AddrDel) Effects() []Effect { return []Effect{Clears(AddrObj(a.In, a.Dev, a.Addr))} }

// RouteAddDefault is `ip route add default via GW` in the namespace of In,
// through Dev.
type RouteAddDefault struct {
	In     int
	Gw     net.IP
	Dev    string
	Reason string
}

func (r RouteAddDefault) Why() string { return r.Reason }
func (r RouteAddDefault) Command() Command {
	return Command{In: where(r.In), Argv: []string{"ip", "route", "add", "default", "via", r.Gw.String()}}
}
func (r RouteAddDefault) Apply(x *Exec) error {
	h, l, err := x.link(r.In, r.Dev)
	if err != nil {
		return err
	}
	return h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: r.Gw, Scope: netlink.SCOPE_UNIVERSE})
}
func (r RouteAddDefault) Effects() []Effect { return []Effect{Makes(DefaultRoute(r.In))} }

// Sysctl is `sysctl -w KEY=VALUE`, done by writing /proc/sys; skipped when
// the value is already set. A key naming an interface with a dot (which
// sysctl would read as a separator) uses the "/" form:
// net/ipv4/conf/br.0/route_localnet.
type Sysctl struct {
	Key, Value string
	Reason     string
}

func (s Sysctl) Why() string { return s.Reason }
func (s Sysctl) Command() Command {
	return Command{Argv: []string{"sysctl", "-w", s.Key + "=" + s.Value}}
}
func (s Sysctl) Apply(*Exec) error {
	return os.WriteFile(sysctlPath(s.Key), []byte(s.Value+"\n"), 0o644)
}
func (s Sysctl) Effects() []Effect { return []Effect{Ensures(SysctlObj(s.Key, s.Value))} }

// SysctlIface names a per-interface sysctl key, in the "/" form when the
// interface name holds a dot.
func SysctlIface(family, dev, leaf string) string {
	if strings.Contains(dev, ".") {
		return "net/" + family + "/conf/" + dev + "/" + leaf
	}
	return "net." + family + ".conf." + dev + "." + leaf
}

// Releaser is a Kernel that holds netlink handles open in other processes'
// network namespaces (Real, Narrating).
type Releaser interface {
	// Release closes the handle in the network namespace of pid: an open
	// handle keeps the namespace, and the veth in it, alive after its last
	// process has gone.
	Release(pid int)
}

// Release lets k close what it holds open in the namespaces of pid, once
// the caller is done with them (a plan holds nothing).
func Release(k Kernel, pid int) {
	if r, ok := k.(Releaser); ok {
		r.Release(pid)
	}
}

// Release implements Releaser.
func (r *Real) Release(pid int) { r.x.release(pid) }

// Release implements Releaser.
func (n *Narrating) Release(pid int) { n.real.Release(pid) }

// release closes the handle in the network namespace of pid, if open.
func (x *Exec) release(pid int) {
	if pid == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if h, ok := x.handles[pid]; ok {
		h.Close()
		delete(x.handles, pid)
	}
}
