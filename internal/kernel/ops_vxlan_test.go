package kernel

import (
	"errors"
	"net"
	"testing"
)

// The commands are iproute2's, exactly: a replayed script depends on them.
func TestVxlanCommands(t *testing.T) {
	mac, _ := net.ParseMAC("0e:76:0a:c8:02:00")
	ip := net.ParseIP("10.200.2.0").To4()
	pub := net.ParseIP("10.99.0.12").To4()
	for _, c := range []struct {
		op   Op
		want string
	}{
		{VxlanAdd{Name: "vx-ov1", VNI: 42, Local: net.ParseIP("10.99.0.11"), Dev: "eth0", MTU: 1450, MAC: mac},
			"ip link add vx-ov1 address 0e:76:0a:c8:02:00 mtu 1450 type vxlan id 42 dstport 4789 local 10.99.0.11 dev eth0 nolearning"},
		{VxlanAdd{Name: "vx0", VNI: 1, Local: net.ParseIP("10.0.0.1"), Dev: "u0", Port: 8472},
			"ip link add vx0 type vxlan id 1 dstport 8472 local 10.0.0.1 dev u0 nolearning"},
		{NeighReplace{Dev: "vx-ov1", IP: ip, MAC: mac}, "ip neigh replace 10.200.2.0 lladdr 0e:76:0a:c8:02:00 dev vx-ov1 nud permanent"},
		{NeighDel{Dev: "vx-ov1", IP: ip, MAC: mac}, "ip neigh del 10.200.2.0 dev vx-ov1"},
		{FdbAppend{Dev: "vx-ov1", MAC: mac, Dst: pub}, "bridge fdb append 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12"},
		{FdbDel{Dev: "vx-ov1", MAC: mac, Dst: pub}, "bridge fdb del 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12"},
		{RouteReplace{Dst: cidr("10.200.2.0/24"), Gw: ip, Dev: "vx-ov1", Onlink: true}, "ip route replace 10.200.2.0/24 via 10.200.2.0 dev vx-ov1 onlink"},
		{RouteReplace{Dst: cidr("10.200.2.0/24"), Gw: ip, Dev: "vx-ov1"}, "ip route replace 10.200.2.0/24 via 10.200.2.0 dev vx-ov1"},
		{RouteDel{Dst: cidr("10.200.2.0/24"), Gw: ip, Dev: "vx-ov1"}, "ip route del 10.200.2.0/24 via 10.200.2.0 dev vx-ov1"},
		// A VTEP's /32 has no broadcast address: none is narrated.
		{AddrAdd{Dev: "vx-ov1", Addr: cidr("10.200.1.0/32")}, "ip addr add 10.200.1.0/32 dev vx-ov1"},
	} {
		if got := c.op.Command().Text(nil); got != c.want {
			t.Errorf("%T: got  %s\nwant %s", c.op, got, c.want)
		}
	}
}

// A peer's entries are made once (a second add is skipped), removed once
// (a second removal is skipped, one never made is refused by nothing:
// removals are idempotent), and go with the vxlan device in a plan as in
// the kernel.
func TestPlanVxlanPeer(t *testing.T) {
	mac, _ := net.ParseMAC("0e:76:0a:c8:02:00")
	vtep, pub := net.ParseIP("10.200.2.0").To4(), net.ParseIP("10.99.0.12").To4()
	dst := cidr("10.200.2.0/24")
	add := []Op{
		NeighReplace{Dev: "vx-ov1", IP: vtep, MAC: mac},
		FdbAppend{Dev: "vx-ov1", MAC: mac, Dst: pub},
		RouteReplace{Dst: dst, Gw: vtep, Dev: "vx-ov1", Onlink: true},
	}
	del := []Op{
		RouteDel{Dst: dst, Gw: vtep, Dev: "vx-ov1"},
		NeighDel{Dev: "vx-ov1", IP: vtep, MAC: mac},
		FdbDel{Dev: "vx-ov1", MAC: mac, Dst: pub},
	}
	p := NewPlan(MapWorld{}, nil)
	if err := p.Do(VxlanAdd{Name: "vx-ov1", VNI: 42, Local: net.ParseIP("10.99.0.11"), Dev: "eth0"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(add...); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(add...); err != nil || len(p.Ops) != 4 {
		t.Fatalf("adding again: %v, %d ops (want 4: skipped)", err, len(p.Ops))
	}
	for _, o := range []Object{RouteObj(dst, vtep, "vx-ov1"), NeighObj("vx-ov1", vtep, mac), FdbObj("vx-ov1", mac, pub)} {
		if has, _ := p.Exists(o); !has {
			t.Errorf("%s not made", o)
		}
	}
	if err := p.Do(del...); err != nil || len(p.Ops) != 7 {
		t.Fatalf("removing: %v, %d ops", err, len(p.Ops))
	}
	if err := p.Do(del...); err != nil || len(p.Ops) != 7 {
		t.Fatalf("removing again: %v, %d ops (want 7: skipped)", err, len(p.Ops))
	}
	if err := p.Do(add...); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(LinkDel{Name: "vx-ov1"}); err != nil {
		t.Fatal(err)
	}
	if m := p.Made(); len(m) != 0 {
		t.Errorf("left after deleting the device: %v", m)
	}
}

// A replace overwrites: the plan forgets the entry it had planned and
// replaced.
func TestPlanNeighReplaceOverwrites(t *testing.T) {
	old, _ := net.ParseMAC("0e:76:0a:c8:02:00")
	mac, _ := net.ParseMAC("0e:76:0a:c8:02:01")
	vtep := net.ParseIP("10.200.2.0").To4()
	p := NewPlan(MapWorld{LinkObj(0, "vx-ov1"): true}, nil)
	if err := p.Do(NeighReplace{Dev: "vx-ov1", IP: vtep, MAC: old}, NeighReplace{Dev: "vx-ov1", IP: vtep, MAC: mac}); err != nil {
		t.Fatal(err)
	}
	if has, _ := p.Exists(NeighObj("vx-ov1", vtep, old)); has {
		t.Error("the replaced entry is still in the plan")
	}
	// Deleting an entry of a device that never was: skipped, not refused.
	if err := p.Do(NeighDel{Dev: "vx-none", IP: vtep, MAC: mac}); err != nil || len(p.Ops) != 2 {
		t.Errorf("%v, %d ops", err, len(p.Ops))
	}
	// Making a device that exists: refused.
	if err := p.Do(VxlanAdd{Name: "vx-ov1", VNI: 1, Local: net.ParseIP("10.0.0.1"), Dev: "eth0"}); !errors.Is(err, ErrPlan) {
		t.Errorf("adding an existing device: %v", err)
	}
}
