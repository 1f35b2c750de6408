package network

import (
	"errors"
	"fmt"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
)

/*
Firewall layout. Every rule mydocker writes lives in a chain mydocker owns,
so removing a network or a container deletes exactly what it added and never
a rule somebody else wrote. Chain names are API (scripts and tests grep for
them). Base chains and their jumps are created with the first network (or
netsetgo bridge with NAT) and removed with the last one: the firewall tells
from the chains themselves, which then hold no rule of anybody's.

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

// Rule is one iptables rule as data, with what it is for. On disk (in a
// netsetgo bridge record) it is {"Table","Chain","Args"}: the why is not
// stored.
type Rule struct {
	kernel.Rule
	Why string `json:"-"`
}

func newRule(table, chain, why string, args ...string) Rule {
	return Rule{Rule: kernel.Rule{Table: table, Chain: chain, Args: args}, Why: why}
}

func comment(c string) []string { return []string{"-m", "comment", "--comment", c} }

// chain is one of mydocker's own chains, with what it is for.
type chain struct{ Table, Name, Why string }

func ownChain(table, name string) chain {
	return chain{table, name, fmt.Sprintf("mydocker's own chain %s in table %s: its rules are ours alone", name, table)}
}

// baseChains are mydocker's own chains, in creation order.
var baseChains = []chain{
	ownChain("nat", chainNat), ownChain("nat", chainPostrouting),
	ownChain("filter", chainIsolation2), ownChain("filter", chainIsolation1), ownChain("filter", chainForward),
}

// baseJumps link mydocker's chains into the built-in ones (inserted at the
// top, so a host's DROP rules further down do not hide our traffic). The
// first is the jump inside MYDOCKER-FORWARD to the isolation check.
func baseJumps() []Rule {
	jump := func(table, from string, args ...string) Rule {
		return newRule(table, from, fmt.Sprintf("send %s/%s traffic through mydocker's chain", table, from), args...)
	}
	return []Rule{
		jump("filter", chainForward, "-j", chainIsolation1),
		jump("filter", "FORWARD", "-j", chainForward),
		jump("nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8", "-j", chainNat),
		jump("nat", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNat),
		jump("nat", "POSTROUTING", "-j", chainPostrouting),
	}
}

// NetworkRules are the rules of one network, in setup order.
func NetworkRules(bridge, subnet string) []Rule {
	tag := comment("mydocker:" + bridge)
	with := func(args ...string) []string { return append(args, tag...) }
	return []Rule{
		newRule("nat", chainPostrouting, "masquerade traffic leaving the subnet, so replies from the world find their way back",
			append(with("-s", subnet, "!", "-o", bridge), "-j", "MASQUERADE")...),
		newRule("nat", chainPostrouting, "masquerade the host's 127.0.0.1 connections DNAT'd to a container (their source must not stay 127.0.0.1)",
			append(with("-s", "127.0.0.0/8", "-o", bridge), "-j", "MASQUERADE")...),
		newRule("filter", chainForward, "let replies, and connections DNAT'd to a published port, into the bridge",
			append(with("-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT"), "-j", "ACCEPT")...),
		newRule("filter", chainForward, "let traffic from the bridge out (to the world and between its own containers)",
			append(with("-i", bridge), "-j", "ACCEPT")...),
		newRule("filter", chainIsolation1, "traffic leaving this bridge for another interface goes to the isolation check",
			append(with("-i", bridge, "!", "-o", bridge), "-j", chainIsolation2)...),
		newRule("filter", chainIsolation2, "drop traffic from another mydocker network into this one (networks are isolated)",
			append(with("-o", bridge), "-j", "DROP")...),
	}
}

// Firewall applies and removes the rules above, and keeps mydocker's base
// chains while any rule of a network or a netsetgo bridge is in them.
type Firewall struct{ k kernel.Kernel }

// NewFirewall is the firewall on the kernel seam k.
func NewFirewall(k kernel.Kernel) Firewall { return Firewall{k: k} }

// EnsureBase creates mydocker's chains and their jumps if missing
// (idempotent: an existing chain or jump is left alone and not narrated).
func (f Firewall) EnsureBase() error {
	for _, c := range baseChains {
		if err := f.k.Do(kernel.ChainNew{Table: c.Table, Chain: c.Name, Reason: c.Why, IfMissing: true}); err != nil {
			return err
		}
	}
	for _, j := range baseJumps() {
		if err := f.k.Do(kernel.RuleInsert{Rule: j.Rule, Reason: j.Why, IfMissing: true}); err != nil {
			return err
		}
	}
	return nil
}

// ReleaseBase deletes the jumps and the chains once no rule of a network
// or a netsetgo bridge is left in them (none but the jump to the isolation
// check). Chains already gone are skipped.
func (f Firewall) ReleaseBase() error {
	lister, ok := f.k.(kernel.Lister)
	if !ok {
		return fmt.Errorf("the kernel seam cannot list a chain's rules")
	}
	own := baseJumps()[0].Object()
	for _, c := range baseChains {
		rules, err := lister.Children(kernel.ChainObj(c.Table, c.Name))
		if err != nil {
			return err
		}
		for _, r := range rules {
			if r != own {
				return nil // still used
			}
		}
	}
	var errs []error
	for _, j := range baseJumps() {
		errs = append(errs, f.k.Do(kernel.RuleDelete{Rule: j.Rule,
			Reason: fmt.Sprintf("no mydocker network left: unhook %s from %s/%s", j.Args[len(j.Args)-1], j.Table, j.Chain)}))
	}
	for i := len(baseChains) - 1; i >= 0; i-- {
		c := baseChains[i]
		ops, err := dropChain(f.k, c.Table, c.Name, fmt.Sprintf("no mydocker network left: remove the chain %s", c.Name))
		errs = append(errs, err, f.k.Do(ops...))
	}
	return errors.Join(errs...)
}

// dropChain is the steps deleting a chain and its rules: none when the
// chain is gone already.
func dropChain(k kernel.Kernel, table, chain, why string) ([]kernel.Op, error) {
	has, err := k.Exists(kernel.ChainObj(table, chain))
	if err != nil || !has {
		return nil, err
	}
	return []kernel.Op{
		kernel.ChainFlush{Table: table, Chain: chain, Reason: why},
		kernel.ChainDelete{Table: table, Chain: chain},
	}, nil
}

// addNetwork appends the network's rules, undoing them on failure.
func (f Firewall) addNetwork(bridge, subnet string) error {
	rs := NetworkRules(bridge, subnet)
	for i, r := range rs {
		if err := f.k.Do(kernel.RuleAppend{Rule: r.Rule, Reason: r.Why}); err != nil {
			return errors.Join(err, f.delRules(rs[:i]))
		}
	}
	return nil
}

func (f Firewall) removeNetwork(bridge, subnet string) error {
	return f.delRules(NetworkRules(bridge, subnet))
}

// addPorts publishes a container's ports: its chain, the DNAT rules in it,
// the jump to it and the hairpin masquerade. Undone on failure.
func (f Firewall) addPorts(containerID string, ip []byte, ports []PortMapping) error {
	rs := portRules(containerID, ip, ports)
	if len(rs) == 0 {
		return nil
	}
	if err := f.k.Do(kernel.ChainNew{Table: "nat", Chain: portChain(containerID),
		Reason: fmt.Sprintf("a chain for the published ports of container %s", names.ShortID(containerID))}); err != nil {
		return err
	}
	// Fill the chain before jumping to it.
	for _, r := range append(append([]Rule{}, rs[1:]...), rs[0]) {
		if err := f.k.Do(kernel.RuleAppend{Rule: r.Rule, Reason: r.Why}); err != nil {
			return errors.Join(err, f.removePorts(containerID, ip, ports))
		}
	}
	return nil
}

// removePorts deletes what addPorts made; missing pieces are skipped.
func (f Firewall) removePorts(containerID string, ip []byte, ports []PortMapping) error {
	rs := portRules(containerID, ip, ports)
	if len(rs) == 0 {
		return nil
	}
	var errs []error
	errs = append(errs, f.k.Do(kernel.RuleDelete{Rule: rs[0].Rule, Reason: "stop looking up the container's published ports"}))
	for _, r := range rs[1:] {
		if r.Chain == chainPostrouting {
			errs = append(errs, f.k.Do(kernel.RuleDelete{Rule: r.Rule, Reason: "remove the hairpin masquerade"}))
		}
	}
	ops, err := dropChain(f.k, "nat", portChain(containerID), "remove the container's port chain and its DNAT rules")
	errs = append(errs, err, f.k.Do(ops...))
	return errors.Join(errs...)
}

func (f Firewall) delRules(rs []Rule) error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		errs = append(errs, f.k.Do(kernel.RuleDelete{Rule: rs[i].Rule, Reason: "remove " + rs[i].Table + "/" + rs[i].Chain + " rule of a network that goes"}))
	}
	return errors.Join(errs...)
}
