package overlay

import (
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/testns"
)

// narrating is the narrating kernel of the test's own namespace, and what
// it narrates.
func narrating(t *testing.T) (*kernel.Narrating, *narration) {
	rec := &narration{}
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.AddHook(rec)
	k := kernel.NewNarrating(l)
	t.Cleanup(k.Close)
	return k, rec
}

// did is what k narrated since the last call.
func (n *narration) did() []string {
	out := n.cmds
	n.cmds = nil
	return out
}

// underlay makes ul0, 10.99.0.11/24, in the test's namespace.
func underlay(t *testing.T) {
	t.Helper()
	testns.RequireRoot(t)
	for _, c := range []string{"ip link add ul0 type veth peer name ul1", "ip addr add 10.99.0.11/24 dev ul0", "ip link set ul0 up"} {
		if out, err := exec.Command("sh", "-c", c).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", "ul0").Run() })
}

// CheckVTEP tells a device as VTEPOps makes it from one missing, half
// made (a crash before its address and up) or made for another VNI.
func TestCheckVTEP(t *testing.T) {
	underlay(t)
	sub, local := subnet("10.200.1.0/24"), net.ParseIP("10.99.0.11")
	check := func(vni int, want string) {
		t.Helper()
		if got, err := CheckVTEP("vx-c", vni, sub, local, "ul0", 1500); err != nil || got != want {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	}
	check(7, "no device vx-c")
	k, _ := narrating(t)
	ops := VTEPOps("vx-c", 7, sub, local, "ul0", 1500)
	if err := k.Do(ops[0]); err != nil {
		t.Fatal(err)
	}
	check(7, "vx-c is down")
	if err := k.Do(ops[1:]...); err != nil {
		t.Fatal(err)
	}
	check(7, "")
	check(8, "vx-c has VNI 7, not 8")
	if err := k.Do(VTEPDel("vx-c")); err != nil {
		t.Fatal(err)
	}
	check(7, "no device vx-c")
}

// In the kernel: a peer half made (a crash before its route) is read back
// as a part and completed with its route alone; a subnet that moves to
// another host loses its old fdb destination; the device's deletion takes
// everything, and a second one does nothing.
func TestPeersRepairedInTheKernel(t *testing.T) {
	underlay(t)
	dev, mtu, err := UnderlayFor(net.ParseIP("10.99.0.11"))
	if err != nil || dev != "ul0" || mtu != 1500 {
		t.Fatalf("underlay: %q %d %v", dev, mtu, err)
	}
	if _, _, err := UnderlayFor(net.ParseIP("10.99.0.99")); err == nil || !strings.Contains(err.Error(), "no interface of this host has the advertise address 10.99.0.99") {
		t.Errorf("an address no link has: %v", err)
	}
	k, rec := narrating(t)
	if err := k.Do(VTEPOps("vx-t", 7, subnet("10.200.1.0/24"), net.ParseIP("10.99.0.11"), dev, mtu)...); err != nil {
		t.Fatal(err)
	}
	rec.did()

	h2 := peer("10.200.2.0/24", "10.99.0.12", "h2")
	half := addOps("vx-t", h2)[:2] // the neighbour and the fdb entry, not the route
	if err := k.Do(half...); err != nil {
		t.Fatal(err)
	}
	rec.did()
	have, err := ReadPeers("vx-t")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := peerText(have), peerText([]Peer{{VTEP: h2.VTEP, MAC: h2.MAC, PublicIP: h2.PublicIP}}); got != want {
		t.Errorf("half a peer read back as\n%swant\n%s", got, want)
	}
	if err := k.Do(PeerOps("vx-t", have, []Peer{h2})...); err != nil {
		t.Fatal(err)
	}
	sameLines(t, rec.did(), "ip route replace 10.200.2.0/24 via 10.200.2.0 dev vx-t onlink")

	moved := peer("10.200.2.0/24", "10.99.0.14", "h4")
	have, _ = ReadPeers("vx-t")
	if err := k.Do(PeerOps("vx-t", have, []Peer{moved})...); err != nil {
		t.Fatal(err)
	}
	sameLines(t, rec.did(),
		"bridge fdb del 0e:76:0a:c8:02:00 dev vx-t dst 10.99.0.12",
		"bridge fdb append 0e:76:0a:c8:02:00 dev vx-t dst 10.99.0.14")
	have, _ = ReadPeers("vx-t")
	moved.Host = ""
	if got, want := peerText(have), peerText([]Peer{moved}); got != want {
		t.Errorf("after the move, read\n%swant\n%s", got, want)
	}

	if err := k.Do(VTEPDel("vx-t")); err != nil {
		t.Fatal(err)
	}
	if err := k.Do(VTEPDel("vx-t")); err != nil {
		t.Fatal(err)
	}
	sameLines(t, rec.did(), "ip link del vx-t")
	if _, err := ReadPeers("vx-t"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("peers of a deleted device: %v", err)
	}
	// Removing the entries of a device that is gone: nothing to do.
	if err := k.Do(removeOps("vx-t", moved)...); err != nil || len(rec.did()) != 0 {
		t.Errorf("removing from a gone device: %v", err)
	}
}
