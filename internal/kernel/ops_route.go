package kernel

import (
	"net"

	"github.com/vishvananda/netlink"
)

// RouteAdd is `ip route add DST via GW` in the namespace of In, through
// Dev: a container's route to a range beyond its own subnet (an overlay
// network's other hosts, when another network has its default route).
// The container's namespace takes it with it.
type RouteAdd struct {
	In     int
	Dst    *net.IPNet
	Gw     net.IP
	Dev    string
	Reason string
}

func (r RouteAdd) Why() string { return r.Reason }
func (r RouteAdd) Command() Command {
	return Command{In: where(r.In), Argv: []string{"ip", "route", "add", r.Dst.String(), "via", r.Gw.String()}}
}
func (r RouteAdd) Apply(x *Exec) error {
	h, l, err := x.link(r.In, r.Dev)
	if err != nil {
		return err
	}
	return h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: r.Dst, Gw: r.Gw, Scope: netlink.SCOPE_UNIVERSE})
}
