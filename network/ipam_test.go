package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mydocker/mydocker/internal/statefile"
)

func mustPool(t testing.TB, cidr string) *Pool {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPoolReservedAndOrder(t *testing.T) {
	p := mustPool(t, "192.168.0.0/24")
	if err := p.Reserve(net.ParseIP("192.168.0.1"), "gw"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := 2; i <= 254; i++ {
		ip, err := p.Allocate(fmt.Sprint("c", i), nil)
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if want := fmt.Sprintf("192.168.0.%d", i); ip.String() != want {
			t.Fatalf("allocation %d = %s, want %s", i, ip, want)
		}
		seen[ip.String()] = true
	}
	if _, err := p.Allocate("x", nil); !errors.Is(err, ErrNoAvailableIPs) {
		t.Fatalf("full pool: err = %v, want ErrNoAvailableIPs", err)
	}
	for _, bad := range []string{"192.168.0.0", "192.168.0.255", "192.168.0.1"} {
		if seen[bad] {
			t.Errorf("%s was handed out", bad)
		}
		if err := p.Reserve(net.ParseIP(bad), "y"); !errors.Is(err, ErrIPInUse) {
			t.Errorf("Reserve(%s) = %v, want ErrIPInUse", bad, err)
		}
	}
	if err := p.Reserve(net.ParseIP("10.0.0.1"), "y"); !errors.Is(err, ErrIPOutOfRange) {
		t.Errorf("Reserve outside = %v", err)
	}
}

func TestPoolHintReleaseOwner(t *testing.T) {
	p := mustPool(t, "10.1.0.0/29") // .1-.6 usable
	a, _ := p.Allocate("a", nil)
	b, _ := p.Allocate("b", nil)
	p.Release(a)
	p.Release(a) // idempotent
	p.Release(net.ParseIP("8.8.8.8"))
	c, _ := p.Allocate("c", nil)
	if c.Equal(a) {
		t.Fatalf("freed %s reused at once; the hint should move on", a)
	}
	if got := p.Owner(b); got != "b" {
		t.Errorf("owner of %s = %q", b, got)
	}
	err := p.Reserve(b, "z")
	if err == nil || !strings.Contains(err.Error(), "in use by b") {
		t.Errorf("Reserve taken = %v, want 'in use by b'", err)
	}
	// Wrap around: fill the rest, the freed one comes back last.
	var last net.IP
	for {
		ip, err := p.Allocate("f", nil)
		if err != nil {
			break
		}
		last = ip
	}
	if !last.Equal(a) {
		t.Errorf("last allocation %s, want the freed %s after wrap-around", last, a)
	}
}

func TestPoolRange(t *testing.T) {
	p := mustPool(t, "10.2.0.0/16")
	_, r, _ := net.ParseCIDR("10.2.5.0/30")
	var got []string
	for {
		ip, err := p.Allocate("x", r)
		if err != nil {
			if !errors.Is(err, ErrNoAvailableIPs) {
				t.Fatal(err)
			}
			break
		}
		got = append(got, ip.String())
	}
	if strings.Join(got, ",") != "10.2.5.0,10.2.5.1,10.2.5.2,10.2.5.3" {
		t.Errorf("range allocations = %v", got)
	}
}

// testNetwork is a network's record on subnet, gateway its first address,
// with endpoints holding ips.
func testNetwork(subnet string, ips ...string) *Network {
	_, n, _ := net.ParseCIDR(subnet)
	gw := append(net.IP{}, n.IP.To4()...)
	gw[3]++
	nw := &Network{Name: "n", Driver: "bridge", Subnet: subnet, Gateway: gw.String(), Bridge: "n", Containers: map[string]*Endpoint{}}
	for i, ip := range ips {
		id := fmt.Sprintf("c%011d", i)
		nw.Containers[id] = &Endpoint{ID: id, IP: ip, Veth: "veth" + id[:11], Ifname: "eth0"}
	}
	return nw
}

// A network's pool comes from its file alone: the gateway and the
// endpoints' addresses are taken, the next address follows the highest.
func TestPoolOfNetwork(t *testing.T) {
	p, err := poolOf(testNetwork("172.20.0.0/22", "172.20.0.2", "172.20.1.7"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Allocated()); got != "[172.20.0.1 172.20.0.2 172.20.1.7]" {
		t.Errorf("allocated = %s", got)
	}
	if ip, _ := p.Allocate("y", nil); ip.String() != "172.20.1.8" {
		t.Errorf("next = %s, want 172.20.1.8 (after the highest in use)", ip)
	}
	if o := p.Owner(net.ParseIP("172.20.0.1")); !strings.Contains(o, "gateway") {
		t.Errorf("owner of the gateway = %q", o)
	}
}

// A record where an address has two owners, or is not a container's to
// have, is corrupt: one line saying which file and what is wrong.
func TestLoadRefusesCorruptFiles(t *testing.T) {
	good, _ := json.Marshal(testNetwork("10.3.0.0/24", "10.3.0.2"))
	for _, tc := range []struct{ name, content, want string }{
		{"null", "null", "null"},
		{"empty", "{}", "Name"},
		{"garbage", "{not json", "invalid character"},
		{"wrong name", strings.Replace(string(good), `"Name":"n"`, `"Name":"m"`, 1), "file's name"},
		{"duplicate", string(mustJSON(t, testNetwork("10.3.0.0/24", "10.3.0.2", "10.3.0.2"))), "in use by"},
		{"gateway", string(mustJSON(t, testNetwork("10.3.0.0/24", "10.3.0.1"))), "in use by the gateway"},
		{"outside", string(mustJSON(t, testNetwork("10.3.0.0/24", "10.4.0.2"))), "not in subnet"},
		{"broadcast", string(mustJSON(t, testNetwork("10.3.0.0/24", "10.3.0.255"))), "broadcast"},
		{"bad subnet", strings.Replace(string(good), `10.3.0.0/24`, `10.3.0.9/24`, 1), "Subnet"},
		{"state", strings.Replace(string(good), `"Created"`, `"State":"halfway","Created"`, 1), "State"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager(t.TempDir(), quiet())
			os.MkdirAll(filepath.Dir(m.netPath("n")), 0o755)
			os.WriteFile(m.netPath("n"), []byte(tc.content), 0o644)
			_, err := m.Inspect("n")
			if !errors.Is(err, statefile.ErrCorrupt) || !strings.Contains(err.Error(), m.netPath("n")) ||
				!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line naming the file and %q", err, tc.want)
			}
			// The others still list.
			if all, err := m.List(); err != nil || len(all) != 0 {
				t.Errorf("list = %v, %v", all, err)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lockedAllocate takes an address on network "n" for owner, under the
// lock and in one write of its file, as concurrent mydocker processes would.
func lockedAllocate(t testing.TB, m *Manager, owner string) string {
	var got string
	err := m.locked(func() error {
		nw, err := m.load("n")
		if err != nil {
			return err
		}
		p, err := poolOf(nw)
		if err != nil {
			return err
		}
		ip, err := p.Allocate(owner, nil)
		if err != nil {
			return err
		}
		got = ip.String()
		nw.Containers[owner] = &Endpoint{ID: owner, IP: got, Veth: "veth" + owner, Ifname: "eth0"}
		return m.k.Do(m.record(nw))
	})
	if err != nil {
		t.Error(err)
	}
	return got
}

func seedStore(t testing.TB, root, subnet string) *Manager {
	m := NewManager(root, quiet())
	if err := m.k.Do(m.record(testNetwork(subnet))); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStoreConcurrentGoroutines(t *testing.T) {
	root := t.TempDir()
	m := seedStore(t, root, "10.9.0.0/24")
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// A Manager per goroutine: separate lock fds, like processes.
			mm := NewManager(root, quiet())
			ip := lockedAllocate(t, mm, fmt.Sprintf("g%d", i))
			mu.Lock()
			defer mu.Unlock()
			if seen[ip] {
				t.Errorf("%s handed out twice", ip)
			}
			seen[ip] = true
		}(i)
	}
	wg.Wait()
	nw, err := m.Inspect("n")
	if err != nil || len(nw.Containers) != 50 {
		t.Errorf("%d endpoints on disk (%v), want 50", len(nw.Containers), err)
	}
}

// TestStoreConcurrentProcesses runs the allocation in separate processes
// (this test binary, re-executed).
func TestStoreConcurrentProcesses(t *testing.T) {
	if root := os.Getenv("IPAM_HELPER_ROOT"); root != "" {
		m := NewManager(root, quiet())
		for i := 0; i < 10; i++ {
			fmt.Println(lockedAllocate(t, m, fmt.Sprintf("p%d-%d", os.Getpid(), i)))
		}
		return
	}
	root := t.TempDir()
	seedStore(t, root, "10.8.0.0/24")
	var wg sync.WaitGroup
	outs := make([]string, 8)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestStoreConcurrentProcesses$")
			cmd.Env = append(os.Environ(), "IPAM_HELPER_ROOT="+root)
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("helper: %v", err)
			}
			outs[i] = string(out)
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, o := range outs {
		for _, l := range strings.Fields(o) {
			if net.ParseIP(l) == nil {
				continue
			}
			if seen[l] {
				t.Errorf("%s handed out twice", l)
			}
			seen[l] = true
		}
	}
	if len(seen) != 80 {
		t.Errorf("%d distinct addresses, want 80", len(seen))
	}
}

// BenchmarkAllocateFill16 fills a /16: b.N allocations, refilling as needed.
func BenchmarkAllocateFill16(b *testing.B) {
	p := mustPool(b, "10.0.0.0/16")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Allocate("x", nil); err != nil {
			p = mustPool(b, "10.0.0.0/16")
		}
	}
}

// A pool fills to its last address (a /16: 65,533 hosts besides the
// gateway) and then says it is full. How fast the last allocations are,
// against the first, is BenchmarkAllocateNearlyFull's: timing belongs in a
// benchmark, not in a test a loaded machine can fail.
func TestAllocationFillsASlash16(t *testing.T) {
	p := mustPool(t, "10.0.0.0/16")
	n := 0
	for {
		if _, err := p.Allocate("x", nil); err != nil {
			break
		}
		n++
	}
	if n < 65533 {
		t.Errorf("a /16 took %d allocations before it was full, want at least 65533", n)
	}
}

// BenchmarkAllocateNearlyFull allocates the last 2,000 addresses of a /16
// (go test -bench NearlyFull ./network): the cost must stay that of the
// first ones (next-free hint, 64-bit word scans).
func BenchmarkAllocateNearlyFull(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := mustPool(b, "10.0.0.0/16")
		for j := 0; j < 65533-2000; j++ {
			p.Allocate("x", nil)
		}
		b.StartTimer()
		for j := 0; j < 2000; j++ {
			if _, err := p.Allocate("x", nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}
