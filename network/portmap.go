package network

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/internal/names"
)

// PortMapping is one -p/--publish: [hostIP:][hostPort:]containerPort[/proto].
type PortMapping struct {
	HostIP        string `json:"HostIp,omitempty"` // "" = every address of the host
	HostPort      int    // 0 until connect picks a free one (-p 80, -P)
	ContainerPort int
	Proto         string // tcp or udp
}

// ParsePortMapping parses -p [[hostIP:][hostPort]:]containerPort[/tcp|udp],
// as docker does: without a host port (`80`, `127.0.0.1::80`), connect
// publishes the container's port on a free port of the host.
func ParsePortMapping(s string) (PortMapping, error) {
	pm := PortMapping{Proto: "tcp"}
	spec := s
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		pm.Proto = strings.ToLower(spec[i+1:])
		spec = spec[:i]
		if pm.Proto != "tcp" && pm.Proto != "udp" {
			return pm, fmt.Errorf("invalid port mapping %q: protocol %q (tcp or udp)", s, pm.Proto)
		}
	}
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 1:
		parts = []string{"", parts[0]}
	case 2:
	case 3:
		ip := net.ParseIP(parts[0])
		if ip == nil || ip.To4() == nil {
			return pm, fmt.Errorf("invalid port mapping %q: host address %q is not an IPv4 address", s, parts[0])
		}
		if !ip.IsUnspecified() {
			pm.HostIP = ip.To4().String()
		}
		parts = parts[1:]
	default:
		return pm, fmt.Errorf("invalid port mapping %q: want [[hostIP:][hostPort]:]containerPort[/tcp|udp]", s)
	}
	var err error
	if parts[0] != "" {
		if pm.HostPort, err = parsePort(parts[0]); err != nil {
			return pm, fmt.Errorf("invalid port mapping %q: host port: %w", s, err)
		}
	}
	if pm.ContainerPort, err = parsePort(parts[1]); err != nil {
		return pm, fmt.Errorf("invalid port mapping %q: container port: %w", s, err)
	}
	return pm, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%d is out of range (1-65535)", n)
	}
	return n, nil
}

// ParsePortMappings parses every -p value and refuses two that publish the
// same host port.
func ParsePortMappings(specs []string) ([]PortMapping, error) {
	var out []PortMapping
	for _, s := range specs {
		pm, err := ParsePortMapping(s)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.Conflicts(pm) {
				return nil, fmt.Errorf("port mappings %s and %s publish the same host port", o, pm)
			}
		}
		out = append(out, pm)
	}
	return out, nil
}

// String renders the mapping in -p syntax.
func (p PortMapping) String() string {
	s := fmt.Sprintf("%d:%d/%s", p.HostPort, p.ContainerPort, p.Proto)
	if p.HostIP != "" {
		s = p.HostIP + ":" + s
	}
	return s
}

// Conflicts reports whether two mappings claim the same host port: same
// protocol and port, and the same address or either on every address. A
// port still to be picked (0) claims none.
func (p PortMapping) Conflicts(o PortMapping) bool {
	return p.HostPort != 0 && p.Proto == o.Proto && p.HostPort == o.HostPort &&
		(p.HostIP == "" || o.HostIP == "" || p.HostIP == o.HostIP)
}

// loopbackOnly reports a port published on a 127.x address: its DNAT must
// only ever be reached from nat OUTPUT (see firewall.go).
func (p PortMapping) loopbackOnly() bool {
	ip := net.ParseIP(p.HostIP)
	return ip != nil && ip.IsLoopback()
}

// portChain is the nat chain holding one container's DNAT rules (chain
// names are API; at most 28 characters).
func portChain(containerID string) string { return "MYDOCKER-P-" + names.ShortID(containerID) }

// portRules are the rules publishing a container's ports, as data:
//
//	nat MYDOCKER             -j MYDOCKER-P-<id>                      the container's chain
//	nat MYDOCKER-P-<id>      [-d hostIP/32] -p tcp --dport HP -j DNAT --to-destination IP:CP
//	nat MYDOCKER-POSTROUTING -s IP/32 -d IP/32 -p tcp --dport CP -j MASQUERADE   (hairpin)
//
// The jump comes first in the slice, so setup appends in order after
// creating the chain and teardown deletes the jump before the chain.
func portRules(containerID string, ip net.IP, ports []PortMapping) []Rule {
	if len(ports) == 0 {
		return nil
	}
	chain := portChain(containerID)
	tag := comment("mydocker:" + names.ShortID(containerID))
	rs := []Rule{newRule("nat", chainNat, "look up the container's published ports", append([]string{"-j", chain}, tag...)...)}
	for _, p := range ports {
		var args []string
		if p.HostIP != "" {
			args = append(args, "-d", p.HostIP+"/32")
		}
		args = append(args, "-p", p.Proto, "-m", p.Proto, "--dport", strconv.Itoa(p.HostPort),
			"-j", "DNAT", "--to-destination", net.JoinHostPort(ip.String(), strconv.Itoa(p.ContainerPort)))
		why := "DNAT a published port to the container"
		if p.loopbackOnly() {
			why += " (127.x: reached from nat OUTPUT only, never from the LAN)"
		}
		rs = append(rs, newRule("nat", chain, why, args...))
	}
	hairpin := map[string]bool{}
	for _, p := range ports {
		key := fmt.Sprint(p.Proto, p.ContainerPort)
		if hairpin[key] {
			continue // one per container port, however many host ports lead to it
		}
		hairpin[key] = true
		args := []string{"-s", ip.String() + "/32", "-d", ip.String() + "/32", "-p", p.Proto, "-m", p.Proto,
			"--dport", strconv.Itoa(p.ContainerPort)}
		args = append(append(args, tag...), "-j", "MASQUERADE")
		rs = append(rs, newRule("nat", chainPostrouting, "hairpin: masquerade the container's connection to its own published port", args...))
	}
	return rs
}

// portsFree refuses ports that a container on any of the networks has
// published already.
func portsFree(all []*Network, ports []PortMapping) error {
	for _, o := range all {
		for _, oep := range o.Containers {
			for _, op := range oep.Ports {
				for _, p := range ports {
					if p.Conflicts(op) {
						return fmt.Errorf("publish %s: %w by container %s (%s)", p, ErrPortAllocated, names.ShortID(oep.ID), op)
					}
				}
			}
		}
	}
	return nil
}

// pickHostPorts gives each mapping without a host port (0) a free one, as
// docker's port allocator does: the first port of the kernel's ephemeral
// range (ip_local_port_range, docker's default 32768-60999) that no
// endpoint of any network publishes, no earlier mapping of ports takes, and
// no process of the host listens on. Called under the network lock, so two
// containers never pick the same port.
func pickHostPorts(all []*Network, ports []PortMapping) ([]PortMapping, error) {
	lo, hi := ephemeralRange()
	out := append([]PortMapping(nil), ports...)
	for i, p := range out {
		if p.HostPort != 0 {
			continue
		}
		taken := func(c PortMapping) bool {
			if portsFree(all, []PortMapping{c}) != nil {
				return true
			}
			for _, o := range out[:i] {
				if o.Conflicts(c) {
					return true
				}
			}
			return checkHostPorts([]PortMapping{c}) != nil
		}
		for port := lo; ; port++ {
			if port > hi {
				return nil, fmt.Errorf("publish %d/%s: %w: no free host port in %d-%d", p.ContainerPort, p.Proto, ErrPortAllocated, lo, hi)
			}
			c := p
			c.HostPort = port
			if !taken(c) {
				out[i] = c
				break
			}
		}
	}
	return out, nil
}

// ephemeralRange is the kernel's range for ports it picks itself, where
// docker picks published ports too (32768-60999 if it cannot be read).
func ephemeralRange() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && 0 < l && l <= h && h <= 65535 {
				return l, h
			}
		}
	}
	return 32768, 60999
}
