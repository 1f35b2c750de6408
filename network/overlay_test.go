package network

import (
	"net"
	"strings"
	"testing"
)

func TestOverlayRules(t *testing.T) {
	c := `-m comment --comment mydocker:ov1`
	checkRules(t, overlayRules("ov1", "vx-ov1", "10.200.1.0/24", "10.200.0.0/16"), []string{
		"nat MYDOCKER-POSTROUTING -s 10.200.1.0/24 ! -d 10.200.0.0/16 " + c + " -j MASQUERADE",
		"nat MYDOCKER-POSTROUTING -s 127.0.0.0/8 -o ov1 " + c + " -j MASQUERADE",
		"filter MYDOCKER-FORWARD -o ov1 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT " + c + " -j ACCEPT",
		"filter MYDOCKER-FORWARD -i ov1 " + c + " -j ACCEPT",
		"filter MYDOCKER-FORWARD -i vx-ov1 -o ov1 " + c + " -j ACCEPT",
		"filter MYDOCKER-ISOLATION-1 -i ov1 -o vx-ov1 " + c + " -j RETURN",
		"filter MYDOCKER-ISOLATION-1 -i ov1 ! -o ov1 " + c + " -j MYDOCKER-ISOLATION-2",
		"filter MYDOCKER-ISOLATION-1 -i vx-ov1 ! -o ov1 " + c + " -j MYDOCKER-ISOLATION-2",
		"filter MYDOCKER-ISOLATION-2 -o ov1 " + c + " -j DROP",
		"filter MYDOCKER-ISOLATION-2 -o vx-ov1 " + c + " -j DROP",
	})
}

func TestHostSubnets(t *testing.T) {
	_, whole, _ := net.ParseCIDR("10.200.0.0/16")
	if n := hostSubnets(whole, 24); n != 256 {
		t.Fatalf("%d /24s in 10.200.0.0/16", n)
	}
	for i, want := range map[int]string{0: "10.200.0.0/24", 1: "10.200.1.0/24", 255: "10.200.255.0/24"} {
		if got := hostSubnet(whole, 24, i).String(); got != want {
			t.Errorf("/24 number %d of 10.200.0.0/16: %s, want %s", i, got, want)
		}
	}
	_, small, _ := net.ParseCIDR("10.1.2.0/24")
	if n, last := hostSubnets(small, 26), hostSubnet(small, 26, 3).String(); n != 4 || last != "10.1.2.192/26" {
		t.Fatalf("the /26s of 10.1.2.0/24: %d, the last %s", n, last)
	}
	_, big, _ := net.ParseCIDR("10.0.0.0/8")
	if n := hostSubnets(big, 30); n != 1<<22 {
		t.Fatalf("%d /30s in 10.0.0.0/8", n)
	}
}

func TestSubnetKey(t *testing.T) {
	_, s, _ := net.ParseCIDR("10.200.3.0/24")
	key := subnetKey("ov1", s)
	if key != "/mydocker/v1/subnets/ov1/10.200.3.0-24" {
		t.Fatalf("subnetKey: %s", key)
	}
	back, err := subnetOfKey(key)
	if err != nil || back.String() != s.String() {
		t.Fatalf("subnetOfKey(%s) = %v, %v", key, back, err)
	}
	if _, err := subnetOfKey("/mydocker/v1/subnets/ov1/junk"); err == nil {
		t.Fatal("a key naming no subnet accepted")
	}
}

// The other hosts' containers are those outside this host's block.
func TestRemoteOf(t *testing.T) {
	nw := &Network{Name: "ov1", Subnet: "10.200.1.0/24"}
	id1, id2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	got := remoteOf(nw, map[string][]byte{
		endpointKey("ov1", id1): []byte(`{"Name":"web","IP":"10.200.0.2","Host":"h1"}`),
		endpointKey("ov1", id2): []byte(`{"Name":"db","IP":"10.200.1.2","Host":"h2"}`),
		endpointKey("ov1", "x"): []byte(`not json`),
	})
	if len(got) != 1 || got[id1] == nil || got[id1].Name != "web" || got[id1].IP != "10.200.0.2" {
		t.Fatalf("remoteOf: %v", got)
	}
}

func TestCreateOverlayBadInput(t *testing.T) {
	m := &Manager{}
	if _, err := m.createOverlay(CreateOptions{Name: "ov1", Driver: "overlay", Subnet: "10.200.0.0/24"}); err == nil || !strings.Contains(err.Error(), "give its URL with --kv") {
		t.Errorf("no --kv: %v", err)
	}
	// Bad input is refused before etcd is dialled (nothing listens here).
	SetCluster(Cluster{KV: []string{"http://127.0.0.1:9"}})
	defer SetCluster(Cluster{})
	for _, c := range []struct {
		opts CreateOptions
		want string
	}{
		{CreateOptions{Name: "ov1", Driver: "overlay"}, "needs --subnet"},
		{CreateOptions{Name: "ov1", Driver: "overlay", Subnet: "10.200.0.1/16"}, "host bits set"},
		{CreateOptions{Name: "ov1", Driver: "overlay", Subnet: "10.200.0.0/24", HostSubnetSize: 24}, "--host-subnet-size 24"},
		{CreateOptions{Name: "ov1", Driver: "overlay", Subnet: "10.200.0.0/16", KVTTL: 1500000000}, "--kv-ttl"},
		{CreateOptions{Name: "ov1", Driver: "overlay", Subnet: "10.200.0.0/16", Gateway: "10.200.0.1"}, "not for overlay"},
	} {
		if _, err := m.createOverlay(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
}
