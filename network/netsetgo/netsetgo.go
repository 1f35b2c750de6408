// Package netsetgo wires an existing process's network namespace into a
// bridge: mydocker's netsetgo verb, flag for flag the teaching tool
// github.com/teddyking/netsetgo, on the bridge driver's named steps and
// mydocker's firewall (package network), through the kernel seam.
package netsetgo

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/procfs"
	"github.com/mydocker/mydocker/network"
)

/*
netsetgo wires an existing process (one started with `unshare --net`, say)
into a bridge, as the teaching tool github.com/teddyking/netsetgo does:

  host:     bridge BR up with BRIDGE-ADDRESS            (created, or reused as it is)
            PREFIX0 ── veth ──┐  on BR, up
  pid's ns:                   └─ PREFIX1 with CONTAINER-ADDRESS, up; lo up;
                                 default via BRIDGE-IP

It goes through the bridge driver's named steps (network/bridge.go),
and, unlike the original, also:
  - NAT: the bridge's subnet gets the same rules as a mydocker network
    (network.NetworkRules: MASQUERADE and forwarding, in mydocker's
    own chains), so the process reaches beyond the host;
  - cleanup: every call leaves a record (state.go) of exactly what
    it made, and Cleanup removes that, rules included;
  - concurrency: calls run under the network lock (the one `network create`
    takes, so the base chains are never created and removed at once), and
    take the first free pair of names PREFIX0/PREFIX1, PREFIX2/PREFIX3, ...

Addresses are the user's, not the IPAM's: a netsetgo bridge is not a
mydocker network, and allocates nothing.
*/

// Netsetgo defaults: the original's flag defaults.
const (
	DefaultBridge           = "brg0"
	DefaultBridgeAddress    = "10.10.10.1/24"
	DefaultVethPrefix       = "veth"
	DefaultContainerAddress = "10.10.10.2/24"
)

// ErrNoWiring: Cleanup found no record of a wiring for the pid.
var ErrNoWiring = errors.New("no netsetgo wiring")

// Options are netsetgo's flags.
type Options struct {
	BridgeName       string
	BridgeAddress    string // CIDR: the bridge's address and the subnet
	VethNamePrefix   string
	ContainerAddress string // CIDR; the bridge's prefix length is used, as the original does
	Pid              int
	NAT              bool
}

// nsgPlan is validated Options.
type nsgPlan struct {
	bridge    string
	bridgeNet *net.IPNet // bridge ip / prefix
	subnet    *net.IPNet
	container *net.IPNet // container ip / the bridge's prefix
	prefix    string
	pid       int
	nat       bool
}

// planNetsetgo checks the options without touching anything.
func planNetsetgo(o Options) (*nsgPlan, error) {
	if o.Pid == 0 {
		return nil, errors.New("netsetgo needs a pid")
	}
	if o.Pid < 0 {
		return nil, fmt.Errorf("invalid pid %d", o.Pid)
	}
	if err := validIfname(o.BridgeName); err != nil {
		return nil, fmt.Errorf("bridge name: %w", err)
	}
	if err := validIfname(o.VethNamePrefix + "0"); o.VethNamePrefix != "" && err != nil {
		return nil, fmt.Errorf("veth name prefix: %w", err)
	}
	if len(o.VethNamePrefix) > 13 { // room for two digits
		return nil, fmt.Errorf("veth name prefix %q: at most 13 characters (interface names have at most 15)", o.VethNamePrefix)
	}
	bip, subnet, err := net.ParseCIDR(o.BridgeAddress)
	if err != nil || bip.To4() == nil {
		return nil, fmt.Errorf("bridge address %q is not an IPv4 address in CIDR notation (like 10.10.10.1/24)", o.BridgeAddress)
	}
	cip, _, err := net.ParseCIDR(o.ContainerAddress)
	if err != nil || cip.To4() == nil {
		return nil, fmt.Errorf("container address %q is not an IPv4 address in CIDR notation (like 10.10.10.2/24)", o.ContainerAddress)
	}
	bip, cip = bip.To4(), cip.To4()
	ones, bits := subnet.Mask.Size()
	bcast := net.ParseIP(kernel.Broadcast(&net.IPNet{IP: bip, Mask: subnet.Mask})).To4()
	special := func(ip net.IP) bool { return ones < 31 && (ip.Equal(subnet.IP) || ip.Equal(bcast)) }
	switch {
	case ones == bits:
		return nil, fmt.Errorf("bridge address %s: a /%d leaves no room for the container", o.BridgeAddress, ones)
	case special(bip):
		return nil, fmt.Errorf("bridge address %s is the network or broadcast address of %s", bip, subnet)
	case !subnet.Contains(cip):
		return nil, fmt.Errorf("container address %s is outside the bridge's subnet %s", cip, subnet)
	case cip.Equal(bip):
		return nil, fmt.Errorf("container address %s is the bridge's own address", cip)
	case special(cip):
		return nil, fmt.Errorf("container address %s is the network or broadcast address of %s", cip, subnet)
	}
	return &nsgPlan{
		bridge:    o.BridgeName,
		bridgeNet: &net.IPNet{IP: bip, Mask: subnet.Mask},
		subnet:    subnet,
		container: &net.IPNet{IP: cip, Mask: subnet.Mask},
		prefix:    o.VethNamePrefix,
		pid:       o.Pid,
		nat:       o.NAT,
	}, nil
}

// validIfname checks a network interface name as the kernel does.
func validIfname(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case len(name) > 15:
		return fmt.Errorf("%q: at most 15 characters", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a valid interface name", name)
	}
	for _, r := range name {
		if r == '/' || r == ':' || r <= ' ' || r > '~' {
			return fmt.Errorf("%q: no '/', ':' or spaces in an interface name", name)
		}
	}
	return nil
}

// Pair is the i-th pair of veth names: PREFIX0/PREFIX1,
// PREFIX2/PREFIX3, ... (host end, process's end).
func Pair(prefix string, i int) (host, peer string) {
	return prefix + strconv.Itoa(2*i), prefix + strconv.Itoa(2*i+1)
}

// Wirer wires processes into bridges, for one state root (--root): its
// records are under <root>/netsetgo, and it takes the network lock of the
// root, as `network create` does.
type Wirer struct {
	root string
	k    kernel.Kernel
}

// New returns the Wirer of the state root, changing the kernel and its
// records through k.
func New(root string, k kernel.Kernel) *Wirer { return &Wirer{root: root, k: k} }

// Wire wires the process o.Pid into the bridge and records what it made.
// On failure what it made is removed and the original error returned.
func (s *Wirer) Wire(o Options) (*Wiring, error) {
	p, err := planNetsetgo(o)
	if err != nil {
		return nil, err
	}
	s.k.Let("PID", strconv.Itoa(o.Pid)) // a script names the process $PID
	var w *Wiring
	err = network.Locked(s.root, func() (err error) { w, err = s.wire(p); return err })
	return w, err
}

func (s *Wirer) wire(p *nsgPlan) (w *Wiring, err error) {
	start, err := procfs.StartTime(p.pid)
	if err != nil {
		return nil, fmt.Errorf("no process with pid %d", p.pid)
	}
	if self, other := netnsOf("self"), netnsOf(strconv.Itoa(p.pid)); self == "" || other == "" || self == other {
		return nil, fmt.Errorf("pid %d is in netsetgo's own network namespace: netsetgo wires a process in a namespace of its own (unshare --net)", p.pid)
	}
	if err := s.pruneWirings(0); err != nil {
		return nil, err
	}
	if old, err := s.loadWiring(p.pid); err == nil {
		return nil, fmt.Errorf("pid %d is already wired (%s on %s): run netsetgo -cleanup -pid %d first", p.pid, old.HostVeth, old.Bridge, p.pid)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	rec, err := s.loadBridgeRecord(p.bridge)
	if err != nil {
		return nil, err
	}
	k := s.k
	host, peer, err := freePair(k, p.pid, p.prefix)
	if err != nil {
		return nil, err
	}
	// Recorded first, marked unfinished, with the names it will make: a
	// cleanup after a kill at any later step finds them (see the records'
	// doc in state.go: each change to the bridge is recorded before it too).
	w = &Wiring{
		Pid: p.pid, StartTime: start, Bridge: p.bridge, BridgeAddress: p.bridgeNet.String(),
		ContainerAddress: p.container.String(), HostVeth: host, PeerVeth: peer,
		NAT: p.nat, Created: time.Now().UTC(), Wiring: true,
	}
	if err := k.Do(kernel.WriteState{Path: s.wiringPath(w.Pid), Value: w}); err != nil {
		return nil, err
	}
	defer kernel.Release(k, p.pid) // an open handle would keep the namespace alive after the process
	var u network.Undo
	defer func() {
		if err != nil {
			err = u.Run(err)
		}
	}()
	u.Add(func() error { return k.Do(kernel.RemoveState{Path: s.wiringPath(w.Pid)}) }) // last on rollback
	u.Add(func() error { return k.Do(s.bridgeRecordOp(rec)) })                         // records what is left then

	if err := s.nsgBridge(p, rec, &u); err != nil {
		return nil, err
	}
	if err := k.Do(network.VethPair(host, peer, nil, p.pid)); err != nil {
		return nil, err
	}
	u.Add(func() error {
		return k.Do(kernel.LinkDel{Name: host, Peer: peer, PeerIn: p.pid, Reason: fmt.Sprintf("undo: delete the veth pair %s", host)})
	})
	if err := k.Do(network.PlugIn(host, p.bridge)); err != nil {
		return nil, err
	}
	if err := k.Do(network.LinkUp("the host end", host)); err != nil {
		return nil, err
	}
	if err := k.Do(network.PeerSteps(p.pid, peer, p.container, p.bridgeNet.IP, true, "process")...); err != nil {
		return nil, err
	}
	if p.nat {
		if err := s.nsgNAT(p, rec, &u); err != nil {
			return nil, err
		}
	}
	l, err := netlink.LinkByName(host)
	if err != nil {
		return nil, err
	}
	w.HostVethIndex, w.Wiring = l.Attrs().Index, false
	if err := k.Do(kernel.WriteState{Path: s.wiringPath(w.Pid), Value: w}); err != nil {
		return nil, err
	}
	s.k.Log().Infof("pid %d wired: %s on bridge %s (%s), %s in its namespace with %s, default via %s",
		p.pid, host, p.bridge, p.bridgeNet, peer, p.container, p.bridgeNet.IP)
	return w, nil
}

// nsgBridge makes sure the bridge exists, is a bridge, has the bridge
// address and is up; what it changes goes into rec and onto the undo stack.
func (s *Wirer) nsgBridge(p *nsgPlan, rec *bridgeRecord, u *network.Undo) error {
	k := s.k
	exists, err := k.Exists(kernel.LinkObj(0, p.bridge))
	if err != nil {
		return err
	}
	if !exists {
		// Each change: recorded, its undo registered (it skips what is
		// missing), then made.
		rec.Created, rec.AddedAddress = true, ""
		if err := k.Do(s.bridgeRecordOp(rec)); err != nil {
			return err
		}
		u.Add(func() error {
			rec.Created = false
			return k.Do(kernel.LinkDel{Name: p.bridge, Reason: fmt.Sprintf("undo: delete the bridge %s", p.bridge)})
		})
		if err := k.Do(network.BridgeAdd(p.bridge)); err != nil {
			return err
		}
		if err := k.Do(kernel.AddrAdd{Dev: p.bridge, Addr: p.bridgeNet, Reason: fmt.Sprintf("the bridge address %s: the process's gateway", p.bridgeNet)}); err != nil {
			return err
		}
		return k.Do(network.LinkUp("the bridge", p.bridge))
	}
	br, err := netlink.LinkByName(p.bridge)
	if err != nil {
		return err
	}
	if br.Type() != "bridge" {
		return fmt.Errorf("%s exists and is not a bridge (it is a %s)", p.bridge, br.Type())
	}
	has, err := k.Exists(kernel.AddrObj(0, p.bridge, p.bridgeNet))
	if err != nil {
		return err
	}
	if !has {
		if !rec.Created {
			rec.AddedAddress = p.bridgeNet.String()
			if err := k.Do(s.bridgeRecordOp(rec)); err != nil {
				return err
			}
		}
		if err := k.Do(kernel.AddrAdd{Dev: p.bridge, Addr: p.bridgeNet,
			Reason: fmt.Sprintf("the bridge %s exists (reused) but lacks the address %s", p.bridge, p.bridgeNet)}); err != nil {
			return err
		}
		u.Add(func() error {
			rec.AddedAddress = ""
			return k.Do(kernel.AddrDel{Dev: p.bridge, Addr: p.bridgeNet, Reason: fmt.Sprintf("undo: remove the address %s from %s", p.bridgeNet, p.bridge)})
		})
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		return k.Do(network.LinkUp("the bridge", p.bridge))
	}
	return nil
}

// nsgNAT sets up forwarding and the bridge's NAT rules, in mydocker's
// chains. Rules already there (put by an earlier wiring on the bridge, or
// by the mydocker network that owns it) are left as they are; the ones it
// appends are recorded in rec.
func (s *Wirer) nsgNAT(p *nsgPlan, rec *bridgeRecord, u *network.Undo) error {
	k := s.k
	if err := k.Do(network.IPForward()); err != nil {
		return err
	}
	var missing []network.Rule
	for _, r := range network.NetworkRules(p.bridge, p.subnet.String()) {
		ok, err := k.Exists(r.Object())
		if err != nil {
			return err
		}
		if !ok {
			missing = append(missing, r)
		}
	}
	// Recorded before they are made; undone (and forgotten) on failure.
	fw := network.NewFirewall(k)
	n := len(rec.Rules)
	rec.Rules = append(rec.Rules, missing...)
	if len(missing) > 0 {
		if err := k.Do(s.bridgeRecordOp(rec)); err != nil {
			return err
		}
	}
	u.Add(func() error {
		err := fw.DelRules("undo: remove the bridge's rules", missing)
		rec.Rules = rec.Rules[:n]
		return errors.Join(err, fw.ReleaseBase())
	})
	return fw.AddRules(fmt.Sprintf("NAT and forwarding for the bridge %s, in mydocker's chains (made if missing)", p.bridge), missing)
}

// freePair returns the first pair of names free on the host (both: the
// original created both there) and, for the peer, in the process's netns.
func freePair(k kernel.Kernel, pid int, prefix string) (string, string, error) {
	for i := 0; ; i++ {
		host, peer := Pair(prefix, i)
		if len(peer) > 15 {
			return "", "", fmt.Errorf("no free pair of interface names %sN/%sN+1", prefix, prefix)
		}
		free := true
		for _, o := range []kernel.Object{kernel.LinkObj(0, host), kernel.LinkObj(0, peer), kernel.LinkObj(pid, peer)} {
			has, err := k.Exists(o)
			if err != nil {
				return "", "", err
			}
			free = free && !has
		}
		if free {
			return host, peer, nil
		}
	}
}
