package kernel

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The ops of an overlay network's data path, as flannel's vxlan backend
// programs it (L3): a vxlan device, and per peer host a route to its
// subnet via its VTEP (onlink), a permanent neighbour entry for that VTEP
// and an fdb entry sending the VTEP's MAC to the host's public address.
// All in the host's network namespace. Objects, as named in Effects:
//
//	route  DST via GW dev NAME          a route of the main table
//	neigh  IP lladdr MAC dev NAME       a permanent neighbour (ARP) entry
//	fdb    MAC dev NAME dst IP          a forwarding entry of a vxlan device
//
// Each lives on its link and goes with it (LinkDel, in a plan too).

func init() {
	existsBy["neigh"] = entryExists(unix.AF_INET, func(dev string, n netlink.Neigh) (Object, bool) {
		return NeighObj(dev, n.IP, n.HardwareAddr), n.State&netlink.NUD_PERMANENT != 0
	})
	existsBy["fdb"] = entryExists(unix.AF_BRIDGE, func(dev string, n netlink.Neigh) (Object, bool) {
		return FdbObj(dev, n.HardwareAddr, n.IP), n.IP != nil
	})
}

// VxlanPort is the IANA port of VXLAN, which `ip link add type vxlan`
// does not default to (Linux's default is 8472, the pre-IANA one).
const VxlanPort = 4789

// RouteObj names a route to dst via gw through dev.
func RouteObj(dst *net.IPNet, gw net.IP, dev string) Object {
	return Object{Kind: "route", Name: dst.String() + " via " + gw.String() + " dev " + dev}
}

// NeighObj names a permanent neighbour entry.
func NeighObj(dev string, ip net.IP, mac net.HardwareAddr) Object {
	return Object{Kind: "neigh", Name: ip.String() + " lladdr " + mac.String() + " dev " + dev}
}

// FdbObj names a forwarding entry of a vxlan device: frames for mac go, in
// UDP, to dst.
func FdbObj(dev string, mac net.HardwareAddr, dst net.IP) Object {
	return Object{Kind: "fdb", Name: mac.String() + " dev " + dev + " dst " + dst.String()}
}

// onLink is an op that makes an object living on a link: deleting the link
// takes it (LinkDel.Plan).
type onLink interface{ onLink() (link, obj Object) }

// VxlanAdd is
//
//	ip link add NAME address MAC mtu MTU type vxlan id VNI dstport PORT local LOCAL dev DEV nolearning
//
// nolearning: the fdb is programmed, never learned from traffic (flannel's
// choice: a host only reaches the peers etcd names). A nil MAC or a zero
// MTU leaves them to the kernel; a zero Port is VxlanPort.
type VxlanAdd struct {
	Name   string
	VNI    int
	Local  net.IP
	Dev    string // the underlay link
	Port   int
	MTU    int
	MAC    net.HardwareAddr
	Reason string
}

func (v VxlanAdd) port() int {
	if v.Port == 0 {
		return VxlanPort
	}
	return v.Port
}

func (v VxlanAdd) Why() string { return v.Reason }
func (v VxlanAdd) Command() Command {
	argv := []string{"ip", "link", "add", v.Name}
	if v.MAC != nil {
		argv = append(argv, "address", v.MAC.String())
	}
	if v.MTU != 0 {
		argv = append(argv, "mtu", strconv.Itoa(v.MTU))
	}
	argv = append(argv, "type", "vxlan", "id", strconv.Itoa(v.VNI), "dstport", strconv.Itoa(v.port()),
		"local", v.Local.String(), "dev", v.Dev, "nolearning")
	return Command{Argv: argv}
}
func (v VxlanAdd) Apply(x *Exec) error {
	h, under, err := x.link(0, v.Dev)
	if err != nil {
		return fmt.Errorf("underlay %s: %w", v.Dev, err)
	}
	la := linkAttrs(v.Name)
	la.MTU = v.MTU
	la.HardwareAddr = v.MAC
	return h.LinkAdd(&netlink.Vxlan{
		LinkAttrs:    la,
		VxlanId:      v.VNI,
		VtepDevIndex: under.Attrs().Index,
		SrcAddr:      v.Local,
		Port:         v.port(),
		Learning:     false,
	})
}
func (v VxlanAdd) Effects() []Effect { return []Effect{Makes(LinkObj(0, v.Name))} }

// NeighReplace is `ip neigh replace IP lladdr MAC dev DEV nud permanent`:
// the peer's VTEP answers at MAC, without ARP (which a vxlan device with
// nolearning could not resolve). Skipped when the entry is there already.
type NeighReplace struct {
	Dev    string
	IP     net.IP
	MAC    net.HardwareAddr
	Reason string
}

func (n NeighReplace) Why() string { return n.Reason }
func (n NeighReplace) Command() Command {
	return Command{Argv: []string{"ip", "neigh", "replace", n.IP.String(), "lladdr", n.MAC.String(), "dev", n.Dev, "nud", "permanent"}}
}
func (n NeighReplace) Apply(x *Exec) error {
	h, l, err := x.link(0, n.Dev)
	if err != nil {
		return err
	}
	return h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_INET, State: netlink.NUD_PERMANENT,
		Type: unix.RTN_UNICAST, IP: n.IP, HardwareAddr: n.MAC})
}
func (n NeighReplace) Effects() []Effect { return []Effect{Ensures(NeighObj(n.Dev, n.IP, n.MAC))} }
func (n NeighReplace) onLink() (Object, Object) {
	return LinkObj(0, n.Dev), NeighObj(n.Dev, n.IP, n.MAC)
}

// Plan drops the entry it replaces (the same address, another MAC), when
// the plan made it.
func (n NeighReplace) Plan(p *Plan) error {
	p.replaced("neigh", n.IP.String()+" lladdr ", " dev "+n.Dev)
	return nil
}

// NeighDel is `ip neigh del IP dev DEV`; an entry already gone (or its
// device) is skipped.
type NeighDel struct {
	Dev    string
	IP     net.IP
	MAC    net.HardwareAddr // the entry's, to name it
	Reason string
}

func (n NeighDel) Why() string { return n.Reason }
func (n NeighDel) Command() Command {
	return Command{Argv: []string{"ip", "neigh", "del", n.IP.String(), "dev", n.Dev}}
}
func (n NeighDel) Apply(x *Exec) error {
	h, l, err := x.link(0, n.Dev)
	if err != nil {
		return goneIsDone(err)
	}
	return goneIsDone(h.NeighDel(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_INET, IP: n.IP}))
}
func (n NeighDel) Effects() []Effect { return []Effect{Clears(NeighObj(n.Dev, n.IP, n.MAC))} }

// FdbAppend is `bridge fdb append MAC dev DEV dst DST`: frames for MAC
// leave DEV in UDP to DST. ("append", as flannel's peers are added one by
// one: a MAC may have several destinations, as the all-zero one of a
// flooding setup does.) Skipped when the entry is there already.
type FdbAppend struct {
	Dev    string
	MAC    net.HardwareAddr
	Dst    net.IP
	Reason string
}

func (f FdbAppend) Why() string { return f.Reason }
func (f FdbAppend) Command() Command {
	return Command{Argv: []string{"bridge", "fdb", "append", f.MAC.String(), "dev", f.Dev, "dst", f.Dst.String()}}
}
func (f FdbAppend) Apply(x *Exec) error {
	h, l, err := x.link(0, f.Dev)
	if err != nil {
		return err
	}
	return h.NeighAppend(fdbEntry(l, f.MAC, f.Dst))
}
func (f FdbAppend) Effects() []Effect { return []Effect{Ensures(FdbObj(f.Dev, f.MAC, f.Dst))} }
func (f FdbAppend) onLink() (Object, Object) {
	return LinkObj(0, f.Dev), FdbObj(f.Dev, f.MAC, f.Dst)
}

// FdbDel is `bridge fdb del MAC dev DEV dst DST`; an entry already gone
// (or its device) is skipped.
type FdbDel struct {
	Dev    string
	MAC    net.HardwareAddr
	Dst    net.IP
	Reason string
}

func (f FdbDel) Why() string { return f.Reason }
func (f FdbDel) Command() Command {
	return Command{Argv: []string{"bridge", "fdb", "del", f.MAC.String(), "dev", f.Dev, "dst", f.Dst.String()}}
}
func (f FdbDel) Apply(x *Exec) error {
	h, l, err := x.link(0, f.Dev)
	if err != nil {
		return goneIsDone(err)
	}
	return goneIsDone(h.NeighDel(fdbEntry(l, f.MAC, f.Dst)))
}
func (f FdbDel) Effects() []Effect { return []Effect{Clears(FdbObj(f.Dev, f.MAC, f.Dst))} }

// fdbEntry is a vxlan device's own (NTF_SELF) permanent fdb entry, as
// `bridge fdb append|del` makes it.
func fdbEntry(l netlink.Link, mac net.HardwareAddr, dst net.IP) *netlink.Neigh {
	return &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
		State: netlink.NUD_PERMANENT | netlink.NUD_NOARP, HardwareAddr: mac, IP: dst}
}

// RouteReplace is `ip route replace DST via GW dev DEV [onlink]`. onlink:
// the gateway (a peer's VTEP address) is on no subnet of DEV, and the
// kernel is told to take it as reachable there all the same. Skipped when
// the route is there already.
type RouteReplace struct {
	Dst    *net.IPNet
	Gw     net.IP
	Dev    string
	Onlink bool
	Reason string
}

func (r RouteReplace) Why() string { return r.Reason }
func (r RouteReplace) Command() Command {
	argv := []string{"ip", "route", "replace", r.Dst.String(), "via", r.Gw.String(), "dev", r.Dev}
	if r.Onlink {
		argv = append(argv, "onlink")
	}
	return Command{Argv: argv}
}
func (r RouteReplace) Apply(x *Exec) error {
	h, l, err := x.link(0, r.Dev)
	if err != nil {
		return err
	}
	rt := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: r.Dst, Gw: r.Gw, Scope: netlink.SCOPE_UNIVERSE}
	if r.Onlink {
		rt.Flags = int(netlink.FLAG_ONLINK)
	}
	return h.RouteReplace(rt)
}
func (r RouteReplace) Effects() []Effect { return []Effect{Ensures(RouteObj(r.Dst, r.Gw, r.Dev))} }
func (r RouteReplace) onLink() (Object, Object) {
	return LinkObj(0, r.Dev), RouteObj(r.Dst, r.Gw, r.Dev)
}

// Plan drops the route it replaces (the same destination, another
// gateway), when the plan made it.
func (r RouteReplace) Plan(p *Plan) error {
	p.replaced("route", r.Dst.String()+" via ", " dev "+r.Dev)
	return nil
}

// RouteDel is `ip route del DST via GW dev DEV`; a route already gone (or
// its device) is skipped.
type RouteDel struct {
	Dst    *net.IPNet
	Gw     net.IP
	Dev    string
	Reason string
}

func (r RouteDel) Why() string { return r.Reason }
func (r RouteDel) Command() Command {
	return Command{Argv: []string{"ip", "route", "del", r.Dst.String(), "via", r.Gw.String(), "dev", r.Dev}}
}
func (r RouteDel) Apply(x *Exec) error {
	h, l, err := x.link(0, r.Dev)
	if err != nil {
		return goneIsDone(err)
	}
	return goneIsDone(h.RouteDel(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: r.Dst, Gw: r.Gw}))
}
func (r RouteDel) Effects() []Effect { return []Effect{Clears(RouteObj(r.Dst, r.Gw, r.Dev))} }

// replaced marks gone, in the plan's model, the objects of kind whose name
// starts with prefix and ends with suffix: what a "replace" overwrote.
func (p *Plan) replaced(kind, prefix, suffix string) {
	for o, has := range p.model {
		if has && o.Kind == kind && o.In == 0 && strings.HasPrefix(o.Name, prefix) && strings.HasSuffix(o.Name, suffix) {
			p.model[o] = false
		}
	}
}

// goneIsDone is success for a removal whose object, or its link, is gone
// already (removed meanwhile by someone else, or with its link).
func goneIsDone(err error) error {
	if err == nil || notFound(err) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}

// onDev lists, for an Exists, the link named in an object's name after
// " dev " (up to the next space), or ok=false when it is gone.
func onDev(x *Exec, name string) (h *netlink.Handle, l netlink.Link, ok bool, err error) {
	_, rest, found := strings.Cut(name, " dev ")
	if !found {
		return nil, nil, false, fmt.Errorf("kernel: %q names no device", name)
	}
	dev, _, _ := strings.Cut(rest, " ")
	h, err = x.Netlink(0)
	if err != nil {
		return nil, nil, false, err
	}
	l, err = h.LinkByName(dev)
	if err != nil {
		if notFound(err) {
			return nil, nil, false, nil
		}
		return nil, nil, false, err
	}
	return h, l, true, nil
}

// viaRouteExists answers for a route named DST via GW dev DEV.
func viaRouteExists(x *Exec, o Object) (bool, error) {
	h, l, ok, err := onDev(x, o.Name)
	if !ok {
		return false, err
	}
	rs, err := h.RouteList(l, unix.AF_INET)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if r.Dst != nil && r.Gw != nil && RouteObj(r.Dst, r.Gw, l.Attrs().Name) == o {
			return true, nil
		}
	}
	return false, nil
}

// entryExists answers for the neighbour (or fdb) entries of a link: those
// of family whose object, by name, is the one asked for (ok: the entry is
// one an op of this file makes).
func entryExists(family int, name func(dev string, n netlink.Neigh) (o Object, ok bool)) func(x *Exec, o Object) (bool, error) {
	return func(x *Exec, o Object) (bool, error) {
		h, l, ok, err := onDev(x, o.Name)
		if !ok {
			return false, err
		}
		ns, err := h.NeighList(l.Attrs().Index, family)
		if err != nil {
			return false, err
		}
		for _, n := range ns {
			if got, ok := name(l.Attrs().Name, n); ok && n.HardwareAddr != nil && got == o {
				return true, nil
			}
		}
		return false, nil
	}
}
