package network

import (
	"errors"
	"fmt"
)

/*
Firewall layout. Every rule mydocker writes lives in a chain mydocker owns,
so removing a network or a container deletes exactly what it added and never
a rule somebody else wrote. Chain names are API (scripts and tests grep for
them). Base chains and their jumps are created with the first network and
removed with the last one.

  filter FORWARD
    -j MYDOCKER-FORWARD                                     (inserted first)
  filter MYDOCKER-FORWARD
    -j MYDOCKER-ISOLATION-1                                 first: isolation
    per network BR:
      -o BR -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT
                                                            replies, and published ports
      -i BR -j ACCEPT                                       out of the network, and within it
  filter MYDOCKER-ISOLATION-1
    per network: -i BR ! -o BR -j MYDOCKER-ISOLATION-2      leaving BR for another interface...
  filter MYDOCKER-ISOLATION-2
    per network: -o BR -j DROP                              ...that is another mydocker bridge: drop

  nat PREROUTING
    -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j MYDOCKER   from outside (never 127/8: a
                                                                port on 127.0.0.1 stays local)
  nat OUTPUT
    -m addrtype --dst-type LOCAL -j MYDOCKER                from the host itself, 127.0.0.1 too
  nat MYDOCKER
    per container with -p: -j MYDOCKER-P-<id>
  nat MYDOCKER-P-<id>                                       one chain per container
    [-d HOSTIP/32] -p tcp -m tcp --dport HOSTPORT -j DNAT --to-destination IP:PORT
  nat POSTROUTING
    -j MYDOCKER-POSTROUTING
  nat MYDOCKER-POSTROUTING
    per network: -s SUBNET ! -o BR -j MASQUERADE            leaving the network: NAT
                 -s 127.0.0.0/8 -o BR -j MASQUERADE         host's 127.0.0.1 DNAT'd into BR
    per port:    -s IP/32 -d IP/32 -p tcp --dport PORT -j MASQUERADE
                                                            hairpin: a container to its own port

With it, per network: the sysctls net.ipv4.ip_forward=1 (routing between the
bridge and the world; 0 in a fresh namespace) and route_localnet=1 on the
bridge (so packets from 127.0.0.1, DNAT'd in OUTPUT, may leave through it),
and hairpin mode on the bridge ports of containers that publish ports.
We never rely on the FORWARD policy being ACCEPT: the ACCEPT rules above are ours.
*/

// Chain names (API).
const (
	chainNat         = "MYDOCKER"
	chainPostrouting = "MYDOCKER-POSTROUTING"
	chainForward     = "MYDOCKER-FORWARD"
	chainIsolation1  = "MYDOCKER-ISOLATION-1"
	chainIsolation2  = "MYDOCKER-ISOLATION-2"
)

// rule is one iptables rule as data: table, chain, rule spec.
type rule struct {
	Table, Chain string
	Args         []string
}

func comment(c string) []string { return []string{"-m", "comment", "--comment", c} }

type chainRef struct{ Table, Chain string }

// baseChains are mydocker's own chains, in creation order.
var baseChains = []chainRef{
	{"nat", chainNat}, {"nat", chainPostrouting},
	{"filter", chainIsolation2}, {"filter", chainIsolation1}, {"filter", chainForward},
}

// baseJumps link mydocker's chains into the built-in ones (inserted at the
// top, so a host's DROP rules further down do not hide our traffic).
func baseJumps() []rule {
	return []rule{
		{"filter", chainForward, []string{"-j", chainIsolation1}},
		{"filter", "FORWARD", []string{"-j", chainForward}},
		{"nat", "PREROUTING", []string{"-m", "addrtype", "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8", "-j", chainNat}},
		{"nat", "OUTPUT", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNat}},
		{"nat", "POSTROUTING", []string{"-j", chainPostrouting}},
	}
}

// networkRules are the rules of one network, in setup order.
func networkRules(bridge, subnet string) []rule {
	tag := comment("mydocker:" + bridge)
	return []rule{
		{"nat", chainPostrouting, append([]string{"-s", subnet, "!", "-o", bridge}, append(tag, "-j", "MASQUERADE")...)},
		{"nat", chainPostrouting, append([]string{"-s", "127.0.0.0/8", "-o", bridge}, append(tag, "-j", "MASQUERADE")...)},
		{"filter", chainForward, append([]string{"-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT"}, append(tag, "-j", "ACCEPT")...)},
		{"filter", chainForward, append([]string{"-i", bridge}, append(tag, "-j", "ACCEPT")...)},
		{"filter", chainIsolation1, append([]string{"-i", bridge, "!", "-o", bridge}, append(tag, "-j", chainIsolation2)...)},
		{"filter", chainIsolation2, append([]string{"-o", bridge}, append(tag, "-j", "DROP")...)},
	}
}

var ruleWhy = []string{
	"masquerade traffic leaving the subnet, so replies from the world find their way back",
	"masquerade the host's 127.0.0.1 connections DNAT'd to a container (their source must not stay 127.0.0.1)",
	"let replies, and connections DNAT'd to a published port, into the bridge",
	"let traffic from the bridge out (to the world and between its own containers)",
	"traffic leaving this bridge for another interface goes to the isolation check",
	"drop traffic from another mydocker network into this one (networks are isolated)",
}

// firewall applies and removes the rules above.
type firewall struct{ k *kernel }

// ensureBase creates mydocker's chains and their jumps if missing
// (idempotent: an existing chain or jump is left alone and not narrated).
func (f firewall) ensureBase() error {
	for _, c := range baseChains {
		ok, err := f.k.IptChainExists(c.Table, c.Chain)
		if err != nil {
			return err
		}
		if !ok {
			if err := f.k.IptNewChain(c.Table, c.Chain, fmt.Sprintf("mydocker's own chain %s in table %s: its rules are ours alone", c.Chain, c.Table)); err != nil {
				return err
			}
		}
	}
	for _, j := range baseJumps() {
		ok, err := f.k.IptExists(j)
		if err != nil && !f.k.n.DryRun() {
			return err
		}
		if !ok {
			if err := f.k.IptInsert(j, fmt.Sprintf("send %s/%s traffic through mydocker's chain", j.Table, j.Chain)); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeBase deletes the jumps and the chains, once no network uses them.
func (f firewall) removeBase() error {
	var errs []error
	for _, j := range baseJumps() {
		errs = append(errs, f.k.IptDelete(j, fmt.Sprintf("no mydocker network left: unhook %s from %s/%s", j.Args[len(j.Args)-1], j.Table, j.Chain)))
	}
	for i := len(baseChains) - 1; i >= 0; i-- {
		c := baseChains[i]
		errs = append(errs, f.k.IptDeleteChain(c.Table, c.Chain, fmt.Sprintf("no mydocker network left: remove the chain %s", c.Chain)))
	}
	return errors.Join(errs...)
}

// addNetwork appends the network's rules, undoing them on failure.
func (f firewall) addNetwork(bridge, subnet string) error {
	rs := networkRules(bridge, subnet)
	for i, r := range rs {
		if err := f.k.IptAppend(r, ruleWhy[i]); err != nil {
			return errors.Join(err, f.delRules(rs[:i]))
		}
	}
	return nil
}

func (f firewall) removeNetwork(bridge, subnet string) error {
	return f.delRules(networkRules(bridge, subnet))
}

// addPorts publishes a container's ports: its chain, the DNAT rules in it,
// the jump to it and the hairpin masquerade. Undone on failure.
func (f firewall) addPorts(containerID string, ip []byte, ports []PortMapping) error {
	rs := portRules(containerID, ip, ports)
	if len(rs) == 0 {
		return nil
	}
	chain := portChain(containerID)
	if err := f.k.IptNewChain("nat", chain, fmt.Sprintf("a chain for the published ports of container %s", shortID(containerID))); err != nil {
		return err
	}
	// Fill the chain before jumping to it.
	order := append(append([]rule{}, rs[1:]...), rs[0])
	for i, r := range order {
		why := "DNAT a published port to the container"
		switch {
		case r.Chain == chainPostrouting:
			why = "hairpin: masquerade the container's connection to its own published port"
		case r.Chain == chainNat:
			why = "look up the container's published ports"
		}
		if i < len(ports) && ports[i].loopbackOnly() {
			why += " (127.x: reached from nat OUTPUT only, never from the LAN)"
		}
		if err := f.k.IptAppend(r, why); err != nil {
			return errors.Join(err, f.removePorts(containerID, ip, ports))
		}
	}
	return nil
}

// removePorts deletes what addPorts made; missing pieces are skipped.
func (f firewall) removePorts(containerID string, ip []byte, ports []PortMapping) error {
	rs := portRules(containerID, ip, ports)
	if len(rs) == 0 {
		return nil
	}
	var errs []error
	errs = append(errs, f.k.IptDelete(rs[0], "stop looking up the container's published ports"))
	for _, r := range rs[1:] {
		if r.Chain == chainPostrouting {
			errs = append(errs, f.k.IptDelete(r, "remove the hairpin masquerade"))
		}
	}
	errs = append(errs, f.k.IptDeleteChain("nat", portChain(containerID), "remove the container's port chain and its DNAT rules"))
	return errors.Join(errs...)
}

func (f firewall) delRules(rs []rule) error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		errs = append(errs, f.k.IptDelete(rs[i], "remove "+rs[i].Table+"/"+rs[i].Chain+" rule of a network that goes"))
	}
	return errors.Join(errs...)
}
