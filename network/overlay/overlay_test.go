package overlay

import (
	"net"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
)

func subnet(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

func peer(sub, pub, host string) Peer { return NewPeer(subnet(sub), net.ParseIP(pub), host) }

func commands(ops []kernel.Op) []string {
	var out []string
	for _, op := range ops {
		out = append(out, op.Command().Text(nil))
	}
	return out
}

func sameLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVtepMAC(t *testing.T) {
	if got := VtepMAC(subnet("10.200.2.0/24")).String(); got != "0e:76:0a:c8:02:00" {
		t.Errorf("got %s", got)
	}
	// From the network address, whatever address of the subnet is given.
	if got := VtepMAC(&net.IPNet{IP: net.ParseIP("10.200.2.7"), Mask: net.CIDRMask(24, 32)}).String(); got != "0e:76:0a:c8:02:00" {
		t.Errorf("got %s", got)
	}
	m := VtepMAC(subnet("10.200.3.0/24"))
	if m[0]&2 == 0 || m[0]&1 != 0 {
		t.Errorf("%s is not a locally administered unicast MAC", m)
	}
}

func TestDeviceName(t *testing.T) {
	seen := map[string]string{}
	for _, n := range []string{"ov1", "abcdefghijkl", "abcdefghijklm", "abcdefghijkln", "abcdefghijklmno", "x"} {
		d := DeviceName(n)
		if len(d) > 15 || !strings.HasPrefix(d, "vx-") {
			t.Errorf("%s: %q", n, d)
		}
		if o, ok := seen[d]; ok {
			t.Errorf("%s and %s share %s", n, o, d)
		}
		seen[d] = n
	}
	if d := DeviceName("ov1"); d != "vx-ov1" {
		t.Errorf("got %s", d)
	}
}

func TestNewPeer(t *testing.T) {
	p := peer("10.200.2.0/24", "10.99.0.12", "h2")
	if p.VTEP.String() != "10.200.2.0" || p.MAC.String() != "0e:76:0a:c8:02:00" || p.PublicIP.String() != "10.99.0.12" {
		t.Errorf("%+v", p)
	}
}

func TestVTEPOps(t *testing.T) {
	sameLines(t, commands(VTEPOps("vx-ov1", 42, subnet("10.200.1.0/24"), net.ParseIP("10.99.0.11"), "eth0", 1500)),
		"ip link add vx-ov1 address 0e:76:0a:c8:01:00 mtu 1450 type vxlan id 42 dstport 4789 local 10.99.0.11 dev eth0 nolearning",
		"ip addr add 10.200.1.0/32 dev vx-ov1",
		"ip link set dev vx-ov1 up")
}

// programH2H3 are the commands that program the peers h2 (10.200.2.0/24
// at 10.99.0.12) and h3 (10.200.3.0/24 at 10.99.0.13).
var programH2H3 = []string{
	"ip neigh replace 10.200.2.0 lladdr 0e:76:0a:c8:02:00 dev vx-ov1 nud permanent",
	"bridge fdb append 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12",
	"ip route replace 10.200.2.0/24 via 10.200.2.0 dev vx-ov1 onlink",
	"ip neigh replace 10.200.3.0 lladdr 0e:76:0a:c8:03:00 dev vx-ov1 nud permanent",
	"bridge fdb append 0e:76:0a:c8:03:00 dev vx-ov1 dst 10.99.0.13",
	"ip route replace 10.200.3.0/24 via 10.200.3.0 dev vx-ov1 onlink",
}

func TestPeerOpsAddsAndRemoves(t *testing.T) {
	h2, h3 := peer("10.200.2.0/24", "10.99.0.12", "h2"), peer("10.200.3.0/24", "10.99.0.13", "h3")
	sameLines(t, commands(PeerOps("vx-ov1", nil, []Peer{h3, h2})), programH2H3...)
	// As read back (no host names): nothing to do.
	read := []Peer{h2, h3}
	read[0].Host, read[1].Host = "", ""
	if ops := PeerOps("vx-ov1", read, []Peer{h2, h3}); len(ops) != 0 {
		t.Errorf("in sync, got %q", commands(ops))
	}
	sameLines(t, commands(PeerOps("vx-ov1", read, []Peer{h3})),
		"ip route del 10.200.2.0/24 via 10.200.2.0 dev vx-ov1",
		"ip neigh del 10.200.2.0 dev vx-ov1",
		"bridge fdb del 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12")
}

// Another host leases a subnet that was gone from etcd before this host
// noticed: the fdb entry to the old host goes (an append would add a
// second destination), the rest is rewritten in place.
func TestPeerOpsSubnetMoved(t *testing.T) {
	old, moved := peer("10.200.2.0/24", "10.99.0.12", "h2"), peer("10.200.2.0/24", "10.99.0.14", "h4")
	sameLines(t, commands(PeerOps("vx-ov1", []Peer{old}, []Peer{moved})),
		"bridge fdb del 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12",
		"ip neigh replace 10.200.2.0 lladdr 0e:76:0a:c8:02:00 dev vx-ov1 nud permanent",
		"bridge fdb append 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.14",
		"ip route replace 10.200.2.0/24 via 10.200.2.0 dev vx-ov1 onlink")
}

// What a crash left half made is completed when still wanted, removed
// when not.
func TestPeerOpsParts(t *testing.T) {
	h2, h3 := peer("10.200.2.0/24", "10.99.0.12", ""), peer("10.200.3.0/24", "10.99.0.13", "")
	routeOnly := Peer{Subnet: h2.Subnet, VTEP: h2.VTEP}
	entriesOnly := Peer{VTEP: h3.VTEP, MAC: h3.MAC, PublicIP: h3.PublicIP}
	// Wanted: every op of each comes (the kernel skips what is there).
	sameLines(t, commands(PeerOps("vx-ov1", []Peer{routeOnly, entriesOnly}, []Peer{h2, h3})), programH2H3...)
	// Not wanted: what there is goes.
	sameLines(t, commands(PeerOps("vx-ov1", []Peer{routeOnly, entriesOnly}, nil)),
		"ip route del 10.200.2.0/24 via 10.200.2.0 dev vx-ov1",
		"ip neigh del 10.200.3.0 dev vx-ov1",
		"bridge fdb del 0e:76:0a:c8:03:00 dev vx-ov1 dst 10.99.0.13")
}

// Planned over what the kernel would have, PeerOps then PeerOps again of
// the same want changes nothing the second time, and the removal of every
// peer leaves nothing.
func TestPeerOpsPlanned(t *testing.T) {
	h2, h3 := peer("10.200.2.0/24", "10.99.0.12", "h2"), peer("10.200.3.0/24", "10.99.0.13", "h3")
	p := kernel.NewPlan(kernel.MapWorld{kernel.LinkObj(0, "vx-ov1"): true}, nil)
	if err := p.Do(PeerOps("vx-ov1", nil, []Peer{h2, h3})...); err != nil {
		t.Fatal(err)
	}
	n := len(p.Ops)
	if err := p.Do(PeerOps("vx-ov1", []Peer{h2}, []Peer{h2, h3})...); err != nil || len(p.Ops) != n {
		t.Errorf("again: %v, %d more ops", err, len(p.Ops)-n)
	}
	if err := p.Do(PeerOps("vx-ov1", []Peer{h2, h3}, nil)...); err != nil {
		t.Fatal(err)
	}
	if m := p.Made(); len(m) != 0 {
		t.Errorf("left: %v", m)
	}
}
