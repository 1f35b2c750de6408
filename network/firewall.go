package network

import (
	"encoding/json"
	"fmt"
	"path/filepath"

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

Each change (a network's rules, with the base chains when it is the first or
the last; a container's published ports) is one iptables-restore --noflush
process, its input built from what the records say exists: no -C check,
no listing. When the kernel is not as the records say (rules deleted by
hand, a reboot with the state kept, a command killed half way), the restore
fails and changes nothing of the table that failed; the firewall then reads
the kernel and applies what is left to do (see apply). firewall_restore.go
holds that half.
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

// Firewall applies and removes the rules above, each change in one
// iptables-restore, and keeps mydocker's base chains while a network or a
// netsetgo bridge has rules in them.
type Firewall struct {
	k kernel.Kernel
	// root is the state root whose records say which rules exist; ""
	// (NewFirewall) reads the kernel before every change instead.
	root string
}

// NewFirewall is the firewall on the kernel seam k, reading the kernel to
// know what exists (netsetgo, the sweep).
func NewFirewall(k kernel.Kernel) Firewall { return Firewall{k: k} }

// ReleaseBase deletes the jumps and the chains once no rule of a network
// or a netsetgo bridge is left in them (none but the jump to the isolation
// check). Chains already gone are skipped.
func (f Firewall) ReleaseBase() error {
	return f.apply(change{why: "no mydocker network left: unhook and remove mydocker's chains", releaseBase: true}, false)
}

// AddRules appends rules (a netsetgo bridge's) with the base chains made
// where missing, in one restore: the kernel is read first.
func (f Firewall) AddRules(why string, rules []Rule) error {
	return f.apply(change{why: why, setupBase: true, add: rules}, false)
}

// DelRules deletes the rules that exist of rules, in one restore.
func (f Firewall) DelRules(why string, rules []Rule) error {
	return f.apply(change{why: why, del: rules}, false)
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

// baseUsed reports whether a record other than the network self's says
// that rules live in mydocker's base chains: another network's file (in
// any state: a corrupt one too), or a netsetgo bridge's record that holds
// rules. Under the network lock, that is what the kernel has.
func (f Firewall) baseUsed(self string) (bool, error) {
	nets, err := kernel.StateNames(f.k, filepath.Join(f.root, "network", "network"))
	if err != nil {
		return false, err
	}
	for _, n := range nets {
		if n != self {
			return true, nil
		}
	}
	dir := filepath.Join(f.root, "netsetgo", "bridges") // netsetgo's records (API)
	bridges, err := kernel.StateNames(f.k, dir)
	if err != nil {
		return false, err
	}
	for _, b := range bridges {
		var rec struct{ Rules []json.RawMessage }
		if err := kernel.ReadState(f.k, filepath.Join(dir, b), &rec); err != nil || len(rec.Rules) > 0 {
			return true, nil // an unreadable one may hold rules
		}
	}
	return false, nil
}

// networkWhy reports whether another record uses the base chains, and the
// why of a change of network name's rules: used, or alone (%s: the name)
// when the change makes or removes the base chains too.
func (f Firewall) networkWhy(name, used, alone string) (bool, string, error) {
	u, err := f.baseUsed(name)
	if err != nil {
		return false, "", err
	}
	if !u {
		used = alone
	}
	return u, fmt.Sprintf(used, name), nil
}

// addNetwork appends the network's rules, with the base chains if no other
// record uses them: one restore.
func (f Firewall) addNetwork(name, bridge, subnet string) error {
	return f.addNetworkRules(name, NetworkRules(bridge, subnet))
}

// addNetworkRules is addNetwork with the network's rules given (an
// overlay network's differ: overlayRules).
func (f Firewall) addNetworkRules(name string, rules []Rule) error {
	used, why, err := f.networkWhy(name, "the rules of network %s, in mydocker's chains",
		"mydocker's own chains, hooked into the kernel's, and the rules of network %s in them")
	if err != nil {
		return err
	}
	return f.apply(change{why: why, setupBase: !used, add: rules}, true)
}

// removeNetwork deletes the network's rules, and the base chains if no
// other record uses them: one restore, at the same time as the ops with
// (the bridge's deletion). With fromRecords false (a rollback of a create
// that failed part way) the kernel is read first.
func (f Firewall) removeNetwork(name, bridge, subnet string, fromRecords bool, with ...kernel.Op) error {
	return f.removeNetworkRules(name, NetworkRules(bridge, subnet), fromRecords, with...)
}

// removeNetworkRules is removeNetwork with the network's rules given.
func (f Firewall) removeNetworkRules(name string, rs []Rule, fromRecords bool, with ...kernel.Op) error {
	used, why, err := f.networkWhy(name, "network %s goes: its rules out of mydocker's chains",
		"network %s goes, the last one: its rules, then mydocker's chains")
	if err != nil {
		return err
	}
	del := make([]Rule, len(rs))
	for i, r := range rs {
		del[len(rs)-1-i] = r
	}
	return f.apply(change{why: why, del: del, releaseBase: !used}, fromRecords, with...)
}

// addPorts publishes a container's ports: its chain, the DNAT rules in it,
// the hairpin masquerade, then the jump to the chain (filled before it is
// jumped to). One restore, all or nothing.
func (f Firewall) addPorts(containerID string, ip []byte, ports []PortMapping) error {
	rs := portRules(containerID, ip, ports)
	if len(rs) == 0 {
		return nil
	}
	c := change{
		why:       fmt.Sprintf("publish the ports of container %s: a chain of its own with its DNAT rules, looked up from MYDOCKER", names.ShortID(containerID)),
		newChains: []chain{{"nat", portChain(containerID), fmt.Sprintf("a chain for the published ports of container %s", names.ShortID(containerID))}},
		add:       append(append([]Rule{}, rs[1:]...), rs[0]),
	}
	return f.apply(c, true)
}

// removePorts deletes what addPorts made: the jump, the hairpin rules,
// then the chain with its DNAT rules, in one restore.
func (f Firewall) removePorts(containerID string, ip []byte, ports []PortMapping) error {
	rs := portRules(containerID, ip, ports)
	if len(rs) == 0 {
		return nil
	}
	c := change{
		why:        fmt.Sprintf("unpublish the ports of container %s: the jump to its chain, its hairpin rules, its chain", names.ShortID(containerID)),
		del:        []Rule{rs[0]},
		dropChains: []chain{{"nat", portChain(containerID), ""}},
	}
	for _, r := range rs[1:] {
		if r.Chain == chainPostrouting {
			c.del = append(c.del, r)
		}
	}
	return f.apply(c, true)
}
