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
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/testns"
)

// Root integration tests: real netlink and iptables, in the namespaces
// testns.Main made for this test binary. Each test removes what it made and
// checks that links and rules are as before.

func mustCreate(t *testing.T, m *Manager, name, subnet string) *Network {
	t.Helper()
	nw, err := m.Create(CreateOptions{Name: name, Subnet: subnet})
	if err != nil {
		t.Fatal(err)
	}
	return nw
}

func attach(id string, pid int, network string, ports ...string) Attachment {
	pm, err := ParsePortMappings(ports)
	if err != nil {
		panic(err)
	}
	return Attachment{Network: network, Container: id, Name: "c-" + id[:4], Hostname: id[:12], Pid: pid, Ports: pm}
}

func TestCreateRemove(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	nw := mustCreate(t, m, "testnet", "192.168.50.0/24")
	if nw.IpRange != "192.168.50.1/24" || nw.Bridge != "testnet" {
		t.Errorf("network = %+v", nw)
	}
	l, err := netlink.LinkByName("testnet")
	if err != nil {
		t.Fatal(err)
	}
	if l.Type() != "bridge" || l.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("bridge: type %s flags %v", l.Type(), l.Attrs().Flags)
	}
	addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "192.168.50.1/24" {
		t.Errorf("bridge addresses %v", addrs)
	}
	rules := run(t, "iptables", "-t", "nat", "-S", "MYDOCKER-POSTROUTING")
	if len(grepLines(rules, "-s 192.168.50.0/24 ! -o testnet")) != 1 || !strings.Contains(rules, "MASQUERADE") {
		t.Errorf("no MASQUERADE rule:\n%s", rules)
	}
	// On-disk formats.
	var raw map[string]any
	data, _ := os.ReadFile(filepath.Join(m.dir, "network", "testnet"))
	json.Unmarshal(data, &raw)
	if raw["Name"] != "testnet" || raw["IpRange"] != "192.168.50.1/24" || raw["Driver"] != "bridge" {
		t.Errorf("network file: %s", data)
	}
	if raw["Subnet"] != "192.168.50.0/24" || raw["Gateway"] != "192.168.50.1" || raw["State"] != nil {
		t.Errorf("network file: %s", data)
	}
	if list, _ := m.List(); len(list) != 1 || list[0].Name != "testnet" {
		t.Errorf("list = %v", list)
	}

	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
	if ents, _ := os.ReadDir(m.dir); len(ents) != 2 { // the lock and the empty directory of networks
		t.Errorf("files left in %s: %v", m.dir, ents)
	}
	if _, err := m.Inspect("testnet"); !errors.Is(err, ErrNotExist) {
		t.Errorf("inspect after remove: %v", err)
	}
	if err := m.Remove("testnet"); !errors.Is(err, ErrNotExist) {
		t.Errorf("second remove: %v", err)
	}
}

func TestConnectPingDisconnect(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "testnet", "192.168.51.0/24")
	a, b := sleeper(t), sleeper(t)
	dir := t.TempDir()
	attA := attach("aaaa1111222233334444", a, "testnet")
	attA.HostsPath, attA.ResolvConfPath = dir+"/a.hosts", dir+"/a.resolv"
	attB := attach("bbbb1111222233334444", b, "testnet")
	attB.HostsPath = dir + "/b.hosts"
	ia, err := m.Connect(attA)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := m.Connect(attB)
	if err != nil {
		t.Fatal(err)
	}
	if ia.IP.String() != "192.168.51.2" || ib.IP.String() != "192.168.51.3" || ia.Gateway.String() != "192.168.51.1" || ia.Ifname != "eth0" {
		t.Errorf("endpoints %+v %+v", ia, ib)
	}
	addr := run(t, inNS(a, "ip", "-o", "-4", "addr", "show", "dev", "eth0")...)
	if !strings.Contains(addr, "192.168.51.2/24") {
		t.Errorf("eth0 in a: %s", addr)
	}
	if r := run(t, inNS(a, "ip", "route", "show", "default")...); !strings.Contains(r, "default via 192.168.51.1 dev eth0") {
		t.Errorf("route in a: %s", r)
	}
	if lo := run(t, inNS(a, "ip", "-o", "link", "show", "lo")...); !strings.Contains(lo, "UP") {
		t.Errorf("lo in a: %s", lo)
	}
	for _, err := range []error{ping(a, "192.168.51.1"), ping(a, "192.168.51.3"), ping(b, "192.168.51.2"), ping(0, "192.168.51.2")} {
		if err != nil {
			t.Error(err)
		}
	}
	// /etc/hosts: each sees itself and the other, updated when b joined.
	hostsA, _ := os.ReadFile(attA.HostsPath)
	if !strings.Contains(string(hostsA), "192.168.51.2\taaaa11112222 c-aaaa") || !strings.Contains(string(hostsA), "192.168.51.3\tbbbb11112222 c-bbbb") {
		t.Errorf("a's hosts:\n%s", hostsA)
	}
	if r, _ := os.ReadFile(attA.ResolvConfPath); !strings.Contains(string(r), "nameserver") {
		t.Errorf("resolv.conf: %s", r)
	}
	nw, _ := m.Inspect("testnet")
	if len(nw.Containers) != 2 || nw.Containers[attA.Container].MAC != "02:42:c0:a8:33:02" {
		t.Errorf("inspect: %+v", nw.Containers)
	}
	if err := m.Remove("testnet"); !errors.Is(err, ErrInUse) {
		t.Errorf("remove while attached: %v", err)
	}

	if err := m.Disconnect("testnet", attB.Container); err != nil {
		t.Fatal(err)
	}
	if err := m.Disconnect("testnet", attB.Container); err != nil {
		t.Errorf("second disconnect: %v", err)
	}
	if _, err := netlink.LinkByName(ib.Veth); err == nil {
		t.Errorf("veth %s left after disconnect", ib.Veth)
	}
	hostsA, _ = os.ReadFile(attA.HostsPath)
	if strings.Contains(string(hostsA), "bbbb") {
		t.Errorf("b still in a's hosts after disconnect:\n%s", hostsA)
	}
	// b's address is free again; the hint moves on, --ip takes it.
	attC := attach("cccc1111222233334444", b, "testnet")
	attC.IP = net.ParseIP("192.168.51.3")
	if _, err := m.Connect(attC); err != nil {
		t.Fatalf("reuse of a released address: %v", err)
	}
	for _, id := range []string{attA.Container, attC.Container} {
		if err := m.Disconnect("testnet", id); err != nil {
			t.Error(err)
		}
	}
	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

// outside makes a namespace standing for the world: a veth from the test
// namespace (10.99.0.1/24, "the host's address") to it (10.99.0.2/24),
// with no route back to container subnets, so replies need our NAT.
func outside(t *testing.T) int {
	pid := sleeper(t)
	run(t, "ip", "link", "add", "out0", "type", "veth", "peer", "name", "eth0", "netns", fmt.Sprint(pid))
	t.Cleanup(func() { tryRun("ip", "link", "del", "out0") })
	run(t, "ip", "addr", "add", "10.99.0.1/24", "dev", "out0")
	run(t, "ip", "link", "set", "out0", "up")
	run(t, inNS(pid, "ip", "addr", "add", "10.99.0.2/24", "dev", "eth0")...)
	run(t, inNS(pid, "ip", "link", "set", "eth0", "up")...)
	run(t, inNS(pid, "ip", "link", "set", "lo", "up")...)
	return pid
}

func TestNATAndPublishedPorts(t *testing.T) {
	m, _ := testManager(t)
	world := outside(t)
	// A host whose FORWARD policy is DROP: mydocker must not rely on ACCEPT.
	run(t, "iptables", "-P", "FORWARD", "DROP")
	t.Cleanup(func() { tryRun("iptables", "-P", "FORWARD", "ACCEPT") })
	beforeAll := snap(t)
	mustCreate(t, m, "testnet", "192.168.52.0/24")
	web := sleeper(t)
	att := attach("dddd1111222233334444", web, "testnet", "8080:80", "127.0.0.1:8081:80")
	info, err := m.Connect(att)
	if err != nil {
		t.Fatal(err)
	}
	httpd(t, web, "hello from web")
	// Container to the world, through MASQUERADE (the world has no route back).
	if err := ping(web, "10.99.0.2"); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		pid  int
		url  string
		want bool
		what string
	}{
		{0, "http://127.0.0.1:8080/", true, "host via 127.0.0.1"},
		{0, "http://10.99.0.1:8080/", true, "host via its own address"},
		{world, "http://10.99.0.1:8080/", true, "another namespace through the host"},
		{web, "http://10.99.0.1:8080/", true, "hairpin: the container to its own published port"},
		{0, "http://127.0.0.1:8081/", true, "127.0.0.1-published port from the host"},
		{world, "http://10.99.0.1:8081/", false, "127.0.0.1-published port from outside"},
	} {
		out, err := wget(tc.pid, tc.url)
		if tc.want && (err != nil || !strings.Contains(out, "hello from web")) {
			t.Errorf("%s (%s): %v %s", tc.what, tc.url, err, out)
		}
		if !tc.want && err == nil {
			t.Errorf("%s (%s) answered: %s", tc.what, tc.url, out)
		}
	}
	// Port taken: refused, nothing created.
	other := sleeper(t)
	mid := snap(t)
	_, err = m.Connect(attach("eeee1111222233334444", other, "testnet", "8080:81"))
	if !errors.Is(err, ErrPortAllocated) {
		t.Errorf("port taken: %v", err)
	}
	mid.check(t)
	// A port a host process listens on: refused too.
	busy, err := net.Listen("tcp4", ":8090")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Connect(attach("eeee1111222233334444", other, "testnet", "8090:80"))
	busy.Close()
	if !errors.Is(err, ErrPortAllocated) {
		t.Errorf("port of a host process: %v", err)
	}
	mid.check(t)

	if err := m.Disconnect("testnet", att.Container); err != nil {
		t.Fatal(err)
	}
	if _, err := wget(0, "http://127.0.0.1:8080/"); err == nil {
		t.Error("port still published after disconnect")
	}
	if out := run(t, "iptables-save"); strings.Contains(out, portChain(att.Container)) || strings.Contains(out, info.IP.String()) {
		t.Errorf("port rules left:\n%s", out)
	}
	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	beforeAll.check(t)
}

func TestIsolation(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "neta", "192.168.53.0/24")
	mustCreate(t, m, "netb", "192.168.54.0/24")
	a1, a2, b1 := sleeper(t), sleeper(t), sleeper(t)
	for _, at := range []Attachment{attach("a1a1a1a1a1a1", a1, "neta"), attach("a2a2a2a2a2a2", a2, "neta"), attach("b1b1b1b1b1b1", b1, "netb")} {
		if _, err := m.Connect(at); err != nil {
			t.Fatal(err)
		}
	}
	if err := ping(a1, "192.168.53.3"); err != nil {
		t.Errorf("same network: %v", err)
	}
	if err := ping(a1, "192.168.54.2"); err == nil {
		t.Error("neta reached netb")
	}
	if err := ping(b1, "192.168.53.2"); err == nil {
		t.Error("netb reached neta")
	}
	if err := ping(b1, "192.168.54.1"); err != nil {
		t.Errorf("own gateway: %v", err)
	}
	for _, d := range [][2]string{{"neta", "a1a1a1a1a1a1"}, {"neta", "a2a2a2a2a2a2"}, {"netb", "b1b1b1b1b1b1"}} {
		if err := m.Disconnect(d[0], d[1]); err != nil {
			t.Error(err)
		}
	}
	if err := m.Remove("neta", "netb"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

func TestConcurrentConnect30(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "testnet", "192.168.55.0/24")
	const n = 30
	pids := make([]int, n)
	for i := range pids {
		pids[i] = sleeper(t)
	}
	ips := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			info, err := m.Connect(attach(fmt.Sprintf("%012x", 0xc0ffee000+i), pids[i], "testnet"))
			if err != nil {
				t.Error(err)
				return
			}
			ips[i] = info.IP.String()
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, ip := range ips {
		if seen[ip] {
			t.Errorf("%s given twice", ip)
		}
		seen[ip] = true
		if got := run(t, inNS(pids[i], "ip", "-o", "-4", "addr", "show", "dev", "eth0")...); !strings.Contains(got, ip+"/24") {
			t.Errorf("container %d: %s", i, got)
		}
	}
	nw, _ := m.Inspect("testnet")
	if len(nw.Containers) != n {
		t.Errorf("%d endpoints recorded", len(nw.Containers))
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := m.Disconnect("testnet", fmt.Sprintf("%012x", 0xc0ffee000+i)); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

func TestConnectRollback(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "testnet", "192.168.56.0/24")
	mid := snap(t)
	pid := sleeper(t)
	testHook = func(p string) error {
		if p == "connect:ports" {
			return errors.New("injected failure")
		}
		return nil
	}
	_, err := m.Connect(attach("f00df00df00d", pid, "testnet", "9090:80"))
	testHook = nil
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("err = %v", err)
	}
	mid.check(t)
	if out := run(t, inNS(pid, "ip", "-o", "link")...); strings.Contains(out, "eth0") {
		t.Errorf("eth0 left in the container: %s", out)
	}
	nw, _ := m.Inspect("testnet")
	if len(nw.Containers) != 0 {
		t.Errorf("endpoint left: %+v", nw.Containers)
	}
	// The address is free again: the next connect gets .2 after the hint wraps... or .3; either way it works.
	info, err := m.Connect(attach("f00df00df00d", pid, "testnet", "9090:80"))
	if err != nil {
		t.Fatal(err)
	}
	nw, _ = m.Inspect("testnet")
	if pool, _ := poolOf(nw); len(pool.Allocated()) != 2 {
		t.Errorf("%v taken after rollback + connect (%s), want 2 (gateway + one)", pool.Allocated(), info.IP)
	}
	m.Disconnect("testnet", "f00df00df00d")
	m.Remove("testnet")
	before.check(t)
}

func TestBadInputCreatesNothing(t *testing.T) {
	m, _ := testManager(t)
	// A host interface with a route, which a network must not hide.
	run(t, "ip", "link", "add", "dummy9", "type", "bridge")
	t.Cleanup(func() { tryRun("ip", "link", "del", "dummy9") })
	run(t, "ip", "addr", "add", "10.123.0.1/16", "dev", "dummy9")
	run(t, "ip", "link", "set", "dummy9", "up")
	before := snap(t)
	mustCreate(t, m, "testnet", "192.168.57.0/24")
	mid := snap(t)
	files := func() string {
		var names []string
		filepath.Walk(m.dir, func(p string, _ os.FileInfo, _ error) error { names = append(names, p); return nil })
		data, _ := os.ReadFile(filepath.Join(m.dir, "network", "testnet"))
		return strings.Join(names, " ") + string(data)
	}
	files0 := files()
	for _, tc := range []struct {
		opts CreateOptions
		err  string
	}{
		{CreateOptions{Name: "testnet", Subnet: "192.168.58.0/24"}, "already exists"},
		{CreateOptions{Name: "other", Subnet: "192.168.57.128/25"}, "overlaps network testnet"},
		{CreateOptions{Name: "other", Subnet: "10.123.4.0/24"}, "overlaps the host route"},
		{CreateOptions{Name: "other", Subnet: "192.168.58.0/24", Gateway: "192.168.59.1"}, "invalid gateway"},
		{CreateOptions{Name: "other", Subnet: "nope"}, "invalid subnet"},
		{CreateOptions{Name: "waytoolongname16", Subnet: "192.168.58.0/24"}, "at most 15"},
		{CreateOptions{Name: "a/b", Subnet: "192.168.58.0/24"}, "invalid network name"},
		{CreateOptions{Name: "..", Subnet: "192.168.58.0/24"}, "invalid network name"},
		{CreateOptions{Name: "a b", Subnet: "192.168.58.0/24"}, "invalid network name"},
		{CreateOptions{Name: "dummy9", Subnet: "192.168.58.0/24"}, "already exists"},
		{CreateOptions{Name: "other", Driver: "macvlan", Subnet: "192.168.58.0/24"}, `unknown network driver "macvlan" (known: bridge, overlay)`},
	} {
		_, err := m.Create(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: err = %v, want %q", tc.opts, err, tc.err)
		}
		mid.check(t)
		if f := files(); f != files0 {
			t.Errorf("%+v: files changed", tc.opts)
		}
	}
	pid := sleeper(t)
	for _, tc := range []struct {
		at  Attachment
		err string
	}{
		{Attachment{Network: "nonet", Container: "abcabcabcabc", Pid: pid}, "no such network"},
		{Attachment{Network: "testnet", Container: "abcabcabcabc", Pid: pid, IP: net.ParseIP("10.0.0.5")}, "not in subnet"},
		{Attachment{Network: "testnet", Container: "abcabcabcabc", Pid: pid, IP: net.ParseIP("192.168.57.1")}, "in use by the gateway"},
		{Attachment{Network: "testnet", Container: "abc/../x", Pid: pid}, "invalid container id"},
		{Attachment{Network: "testnet", Container: "abcabcabcabc", Pid: pid, DNS: []string{"x"}, ResolvConfPath: "/nonexistent/r"}, "invalid --dns"},
	} {
		_, err := m.Connect(tc.at)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: err = %v, want %q", tc.at, err, tc.err)
		}
		mid.check(t)
		if f := files(); f != files0 {
			t.Errorf("%+v: files changed", tc.at)
		}
	}
	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

func TestDisconnectAfterDeathAndReconcile(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "testnet", "192.168.60.0/24")
	p1, p2 := sleeper(t), sleeper(t)
	i1, err := m.Connect(attach("deaddeaddead0001", p1, "testnet", "7070:70"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Connect(attach("deaddeaddead0002", p2, "testnet")); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(p1, syscall.SIGKILL)
	syscall.Kill(p2, syscall.SIGKILL)
	// The netns dies with its last process; its veth goes with it (async).
	if err := m.Disconnect("testnet", "deaddeaddead0001"); err != nil {
		t.Errorf("disconnect after death: %v", err)
	}
	if _, err := netlink.LinkByName(i1.Veth); err == nil {
		t.Errorf("veth %s left", i1.Veth)
	}
	if err := m.Reconcile(func(id string) bool { return false }); err != nil {
		t.Error(err)
	}
	nw, _ := m.Inspect("testnet")
	if len(nw.Containers) != 0 {
		t.Errorf("endpoints left after reconcile: %v", nw.Containers)
	}
	if pool, _ := poolOf(nw); len(pool.Allocated()) != 1 {
		t.Errorf("%v taken after reconcile, want the gateway alone", pool.Allocated())
	}
	if removed, err := m.Prune(); err != nil || len(removed) != 1 {
		t.Errorf("prune = %v, %v", removed, err)
	}
	before.check(t)
}

func TestDefaultNetwork(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	pid := sleeper(t)
	info, err := m.Connect(attach("0123456789ab", pid, ""))
	if err != nil {
		t.Fatal(err)
	}
	if info.Network != "bridge" || info.IP.String() != "172.17.0.2" || info.Gateway.String() != "172.17.0.1" {
		t.Errorf("default endpoint %+v", info)
	}
	if _, err := netlink.LinkByName("mydocker0"); err != nil {
		t.Errorf("no mydocker0: %v", err)
	}
	if err := ping(pid, "172.17.0.1"); err != nil {
		t.Error(err)
	}
	m.Disconnect("bridge", "0123456789ab")
	if err := m.Remove("bridge"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

func TestDryRunTouchesNothing(t *testing.T) {
	testns.RequireRoot(t)
	l, rec := testLogger(t)
	m := NewManager(t.TempDir(), kernel.NewPlan(kernel.NewReal(l), l))
	before := snap(t)
	pid := sleeper(t)
	if _, err := m.Create(CreateOptions{Name: "drynet", Subnet: "192.168.61.0/24"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Connect(attach("d1d1d1d1d1d1", pid, "", "8080:80")); err != nil {
		t.Fatal(err)
	}
	before.check(t)
	if ents, _ := os.ReadDir(filepath.Join(m.dir, "network")); len(ents) > 1 { // the lock file only
		t.Errorf("dry run wrote files: %v", ents)
	}
	cmds := strings.Join(rec.all(), "\n")
	for _, want := range []string{"ip link add drynet type bridge", "ip link add mydocker0 type bridge", "-A MYDOCKER-P-d1d1d1d1d1d1"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("dry run did not narrate %q:\n%s", want, cmds)
		}
	}
	if out := run(t, inNS(pid, "ip", "-o", "link")...); strings.Contains(out, "eth0") {
		t.Error("dry run made eth0")
	}
}

// BenchmarkConnectDisconnect is the network part of `run --rm --net
// testnet`: Connect (IPAM, veth, addresses, route, hosts files) and
// Disconnect, for one container namespace, in-process through netlink.
func BenchmarkConnectDisconnect(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	root := b.TempDir()
	m := NewManager(root, quiet())
	if _, err := m.Create(CreateOptions{Name: "benchnet", Subnet: "192.168.70.0/24"}); err != nil {
		b.Fatal(err)
	}
	defer m.Remove("benchnet")
	cmd := exec.Command("unshare", "--net", "sleep", "600")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(50 * time.Millisecond)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := m.Connect(Attachment{Network: "benchnet", Container: "bench0000000", Name: "bench", Pid: cmd.Process.Pid,
			HostsPath: dir + "/hosts", ResolvConfPath: dir + "/resolv.conf"})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Disconnect("benchnet", "bench0000000"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNarrationBalanced cross-checks a full life cycle's "$" lines: every
// rule deleted was added, every chain deleted was created and flushed
// first, every link deleted was added, and in the end nothing added is
// left undeleted (the kernel-side removal of a dead container's veth
// aside, none happens here: the container lives on).
func TestNarrationBalanced(t *testing.T) {
	m, rec := testManager(t)
	pid := sleeper(t)
	mustCreate(t, m, "testnet", "192.168.62.0/24")
	mustCreate(t, m, "other", "192.168.63.0/24")
	at := attach("baba0000baba0000", pid, "testnet", "8080:80", "127.0.0.1:8081:80/udp")
	if _, err := m.Connect(at); err != nil {
		t.Fatal(err)
	}
	if err := m.Disconnect("testnet", at.Container); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("testnet", "other"); err != nil {
		t.Fatal(err)
	}
	rules := map[string]int{}
	chains := map[string]string{} // chain -> "created" | "flushed"
	linksAdded := map[string]bool{}
	for _, c := range rec.all() {
		f := strings.Fields(strings.ReplaceAll(c, "'", ""))
		switch {
		case f[0] == "iptables" && (f[3] == "-A" || f[3] == "-I"):
			args := f[5:]
			if f[3] == "-I" {
				args = f[6:]
			}
			rules[f[2]+" "+f[4]+" "+strings.Join(args, " ")]++
		case f[0] == "iptables" && f[3] == "-D":
			k := f[2] + " " + f[4] + " " + strings.Join(f[5:], " ")
			if rules[k] == 0 {
				t.Errorf("deletes a rule never added: %s", c)
			}
			rules[k]--
		case f[0] == "iptables" && f[3] == "-N":
			chains[f[2]+" "+f[4]] = "created"
		case f[0] == "iptables" && f[3] == "-F":
			if chains[f[2]+" "+f[4]] == "" {
				t.Errorf("flushes a chain never created: %s", c)
			}
			chains[f[2]+" "+f[4]] = "flushed"
			for k := range rules { // -F deletes the chain's rules
				if strings.HasPrefix(k, f[2]+" "+f[4]+" ") {
					delete(rules, k)
				}
			}
		case f[0] == "iptables" && f[3] == "-X":
			if chains[f[2]+" "+f[4]] != "flushed" {
				t.Errorf("deletes a chain not created and flushed: %s", c)
			}
			delete(chains, f[2]+" "+f[4])
		case f[0] == "ip" && f[1] == "link" && f[2] == "add":
			linksAdded[f[3]] = true
		case f[0] == "ip" && f[1] == "link" && f[2] == "del":
			if !linksAdded[f[3]] {
				t.Errorf("deletes a link never added: %s", c)
			}
			delete(linksAdded, f[3])
		}
	}
	for k, n := range rules {
		if n != 0 {
			t.Errorf("rule added and not deleted: %s", k)
		}
	}
	for k := range chains {
		t.Errorf("chain left: %s", k)
	}
	for k := range linksAdded {
		t.Errorf("link left: %s", k)
	}
}

// A record lost (a tmpfs /var/run emptied, a state file deleted by hand):
// the sweep finds the network's bridge, rules, the container's veth and
// port chain by their names and comments, and removes them all.
func TestSweepRemovesWhatNoRecordNames(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "sweepnet", "192.168.61.0/24")
	keep := mustCreate(t, m, "keepnet", "192.168.62.0/24")
	pid := sleeper(t)
	if _, err := m.Connect(attach("5eed5eed5eed0001", pid, "sweepnet", "7171:71")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(m.netPath("sweepnet")); err != nil {
		t.Fatal(err)
	}
	gone, err := m.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("swept:\n%s", strings.Join(gone, "\n"))
	if out := run(t, inNS(pid, "ip", "-o", "link")...); strings.Contains(out, "eth0") {
		t.Errorf("the container's eth0 is left: %s", out)
	}
	for _, s := range []string{"sweepnet", "MYDOCKER-P-5eed5eed5eed", "mydocker:5eed5eed5eed", "veth"} {
		if dump := links(t) + iptablesSave(t); strings.Contains(dump, s) {
			t.Errorf("%s left after the sweep:\n%s", s, dump)
		}
	}
	if !strings.Contains(links(t), keep.Bridge) || len(gone) == 0 {
		t.Errorf("the sweep removed %v, and the recorded network's bridge? %s", gone, links(t))
	}
	if err := m.Remove("keepnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

// After a reboot with the state kept (the bridge and rules gone, the file
// not), a connect makes the network again and the container's traffic flows.
func TestConnectRemakesAGoneBridge(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	nw := mustCreate(t, m, "againnet", "192.168.63.0/24")
	made := snap(t)
	run(t, "ip", "link", "del", nw.Bridge)
	pid := sleeper(t)
	if _, err := m.Connect(attach("a9a1a9a1a9a10001", pid, "againnet")); err != nil {
		t.Fatal(err)
	}
	if err := ping(pid, nw.Gateway); err != nil {
		t.Errorf("the gateway does not answer after the network was made again: %v", err)
	}
	if err := m.Disconnect("againnet", "a9a1a9a1a9a10001"); err != nil {
		t.Fatal(err)
	}
	made.check(t)
	if err := m.Remove("againnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}

// `network rm` of a corrupt file removes it, and what the network had in
// the kernel: its bridge and rules are found by name and comment.
func TestRemoveCorruptNetwork(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "badnet", "192.168.64.0/24")
	os.WriteFile(m.netPath("badnet"), []byte("null"), 0o644)
	if _, err := m.Inspect("badnet"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("inspect of a null file: %v", err)
	}
	if err := m.Remove("badnet"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
	if _, err := m.Inspect("badnet"); !errors.Is(err, ErrNotExist) {
		t.Errorf("after rm: %v", err)
	}
}

// A container disconnected from one of its two networks no longer lists,
// in its /etc/hosts, its address on that network.
func TestDisconnectRewritesOwnHosts(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	mustCreate(t, m, "hostsa", "192.168.65.0/24")
	mustCreate(t, m, "hostsb", "192.168.66.0/24")
	pid := sleeper(t)
	hosts := filepath.Join(t.TempDir(), "hosts")
	for _, n := range []string{"hostsa", "hostsb"} {
		a := attach("b0b0b0b0b0b00001", pid, n)
		a.HostsPath = hosts
		if _, err := m.Connect(a); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(hosts); !strings.Contains(string(b), "192.168.66.") {
		t.Fatalf("hosts before the disconnect:\n%s", b)
	}
	if err := m.Disconnect("hostsb", "b0b0b0b0b0b00001"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(hosts); strings.Contains(string(b), "192.168.66.") || !strings.Contains(string(b), "192.168.65.2") {
		t.Errorf("hosts after disconnecting hostsb:\n%s", b)
	}
	m.Disconnect("hostsa", "b0b0b0b0b0b00001")
	if err := m.Remove("hostsa", "hostsb"); err != nil {
		t.Fatal(err)
	}
	before.check(t)
}
