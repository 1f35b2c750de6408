package network

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
)

// restoreInput is the iptables-restore input of a change, as the records
// say the kernel is.
func restoreInput(c change) string {
	return kernel.IptablesRestore{Lines: c.lines()}.Input()
}

// The first network's restore: mydocker's chains, the jumps to them, then
// the network's rules, a table at a time, each line after its why.
const firstNetworkInput = `*nat
# mydocker's own chain MYDOCKER in table nat: its rules are ours alone
-N MYDOCKER
# mydocker's own chain MYDOCKER-POSTROUTING in table nat: its rules are ours alone
-N MYDOCKER-POSTROUTING
# send nat/PREROUTING traffic through mydocker's chain
-I PREROUTING 1 -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j MYDOCKER
# send nat/OUTPUT traffic through mydocker's chain
-I OUTPUT 1 -m addrtype --dst-type LOCAL -j MYDOCKER
# send nat/POSTROUTING traffic through mydocker's chain
-I POSTROUTING 1 -j MYDOCKER-POSTROUTING
# masquerade traffic leaving the subnet, so replies from the world find their way back
-A MYDOCKER-POSTROUTING -s 10.20.0.0/24 ! -o web -m comment --comment mydocker:web -j MASQUERADE
# masquerade the host's 127.0.0.1 connections DNAT'd to a container (their source must not stay 127.0.0.1)
-A MYDOCKER-POSTROUTING -s 127.0.0.0/8 -o web -m comment --comment mydocker:web -j MASQUERADE
COMMIT
*filter
# mydocker's own chain MYDOCKER-ISOLATION-2 in table filter: its rules are ours alone
-N MYDOCKER-ISOLATION-2
# mydocker's own chain MYDOCKER-ISOLATION-1 in table filter: its rules are ours alone
-N MYDOCKER-ISOLATION-1
# mydocker's own chain MYDOCKER-FORWARD in table filter: its rules are ours alone
-N MYDOCKER-FORWARD
# send filter/MYDOCKER-FORWARD traffic through mydocker's chain
-I MYDOCKER-FORWARD 1 -j MYDOCKER-ISOLATION-1
# send filter/FORWARD traffic through mydocker's chain
-I FORWARD 1 -j MYDOCKER-FORWARD
# let replies, and connections DNAT'd to a published port, into the bridge
-A MYDOCKER-FORWARD -o web -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment mydocker:web -j ACCEPT
# let traffic from the bridge out (to the world and between its own containers)
-A MYDOCKER-FORWARD -i web -m comment --comment mydocker:web -j ACCEPT
# traffic leaving this bridge for another interface goes to the isolation check
-A MYDOCKER-ISOLATION-1 -i web ! -o web -m comment --comment mydocker:web -j MYDOCKER-ISOLATION-2
# drop traffic from another mydocker network into this one (networks are isolated)
-A MYDOCKER-ISOLATION-2 -o web -m comment --comment mydocker:web -j DROP
COMMIT
`

// The last network's: its rules out, then the jumps and the chains (empty
// by then, as the records say: no flush).
const lastNetworkInput = `*filter
-D MYDOCKER-ISOLATION-2 -o web -m comment --comment mydocker:web -j DROP
-D MYDOCKER-ISOLATION-1 -i web ! -o web -m comment --comment mydocker:web -j MYDOCKER-ISOLATION-2
-D MYDOCKER-FORWARD -i web -m comment --comment mydocker:web -j ACCEPT
-D MYDOCKER-FORWARD -o web -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment mydocker:web -j ACCEPT
-D MYDOCKER-FORWARD -j MYDOCKER-ISOLATION-1
-D FORWARD -j MYDOCKER-FORWARD
-X MYDOCKER-FORWARD
-X MYDOCKER-ISOLATION-1
-X MYDOCKER-ISOLATION-2
COMMIT
*nat
-D MYDOCKER-POSTROUTING -s 127.0.0.0/8 -o web -m comment --comment mydocker:web -j MASQUERADE
-D MYDOCKER-POSTROUTING -s 10.20.0.0/24 ! -o web -m comment --comment mydocker:web -j MASQUERADE
-D PREROUTING -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j MYDOCKER
-D OUTPUT -m addrtype --dst-type LOCAL -j MYDOCKER
-D POSTROUTING -j MYDOCKER-POSTROUTING
-X MYDOCKER-POSTROUTING
-X MYDOCKER
COMMIT
`

const portsInput = `*nat
# a chain for the published ports of container 0123456789ab
-N MYDOCKER-P-0123456789ab
# DNAT a published port to the container
-A MYDOCKER-P-0123456789ab -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.20.0.2:80
# DNAT a published port to the container (127.x: reached from nat OUTPUT only, never from the LAN)
-A MYDOCKER-P-0123456789ab -d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.20.0.2:53
# hairpin: masquerade the container's connection to its own published port
-A MYDOCKER-POSTROUTING -s 10.20.0.2/32 -d 10.20.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment mydocker:0123456789ab -j MASQUERADE
# hairpin: masquerade the container's connection to its own published port
-A MYDOCKER-POSTROUTING -s 10.20.0.2/32 -d 10.20.0.2/32 -p udp -m udp --dport 53 -m comment --comment mydocker:0123456789ab -j MASQUERADE
# look up the container's published ports
-A MYDOCKER -j MYDOCKER-P-0123456789ab -m comment --comment mydocker:0123456789ab
COMMIT
`

const unpublishInput = `*nat
-D MYDOCKER -j MYDOCKER-P-0123456789ab -m comment --comment mydocker:0123456789ab
-D MYDOCKER-POSTROUTING -s 10.20.0.2/32 -d 10.20.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment mydocker:0123456789ab -j MASQUERADE
-D MYDOCKER-POSTROUTING -s 10.20.0.2/32 -d 10.20.0.2/32 -p udp -m udp --dport 53 -m comment --comment mydocker:0123456789ab -j MASQUERADE
-F MYDOCKER-P-0123456789ab
-X MYDOCKER-P-0123456789ab
COMMIT
`

// planFirewall is a firewall on a plan over world, with a state root that
// holds the given networks' files (the records the fast path believes).
func planFirewall(t *testing.T, world kernel.MapWorld, networks ...string) (Firewall, *kernel.Plan) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "network", "network")
	os.MkdirAll(dir, 0o755)
	for _, n := range networks {
		os.WriteFile(filepath.Join(dir, n), []byte("{}"), 0o644)
	}
	p := kernel.NewPlan(world, nil)
	return Firewall{k: p, root: root}, p
}

func restoresOf(p *kernel.Plan) []string {
	var out []string
	for _, op := range p.Ops {
		if r, ok := op.(kernel.IptablesRestore); ok {
			out = append(out, r.Input())
		}
	}
	return out
}

func TestNetworkRestoreInput(t *testing.T) {
	rs := NetworkRules("web", "10.20.0.0/24")
	if got := restoreInput(change{setupBase: true, add: rs}); got != firstNetworkInput {
		t.Errorf("first network:\n%s\nwant:\n%s", got, firstNetworkInput)
	}
	// Through the firewall: the records decide the base chains.
	f, p := planFirewall(t, kernel.MapWorld{}, "web")
	if err := f.addNetwork("web", "web", "10.20.0.0/24"); err != nil {
		t.Fatal(err)
	}
	if err := f.removeNetwork("web", "web", "10.20.0.0/24", true); err != nil {
		t.Fatal(err)
	}
	got := restoresOf(p)
	if len(got) != 2 || got[0] != firstNetworkInput || got[1] != lastNetworkInput {
		t.Errorf("create and remove:\n%s\nwant:\n%s%s", strings.Join(got, "----\n"), firstNetworkInput, lastNetworkInput)
	}
	if made := p.Made(); len(made) != 0 {
		t.Errorf("left: %v", made)
	}
}

// With another network recorded, a network's restore holds its own rules
// only: the base chains are neither made nor removed.
func TestNetworkRestoreInputWithAnother(t *testing.T) {
	f, p := planFirewall(t, kernel.MapWorld{}, "web")
	f.addNetwork("web", "web", "10.20.0.0/24")
	os.WriteFile(filepath.Join(f.root, "network", "network", "db"), []byte("{}"), 0o644)
	from := len(p.Ops)
	if err := f.addNetwork("db", "db", "10.21.0.0/24"); err != nil {
		t.Fatal(err)
	}
	if err := f.removeNetwork("web", "web", "10.20.0.0/24", true); err != nil {
		t.Fatal(err)
	}
	for _, in := range restoresOf(&kernel.Plan{Ops: p.Ops[from:]}) {
		if strings.Contains(in, "-N MYDOCKER\n") || strings.Contains(in, "-X ") || strings.Contains(in, "-I ") {
			t.Errorf("base chains touched while another network uses them:\n%s", in)
		}
		if n := strings.Count(in, "\n-"); n != 6 {
			t.Errorf("%d lines, want the network's 6:\n%s", n, in)
		}
	}
}

func TestPortsRestoreInput(t *testing.T) {
	ports, _ := ParsePortMappings([]string{"8080:80", "127.0.0.1:5353:53/udp"})
	ip := net.ParseIP("10.20.0.2").To4()
	f, p := planFirewall(t, kernel.MapWorld{}, "web")
	f.addNetwork("web", "web", "10.20.0.0/24")
	from := len(p.Ops)
	if err := f.addPorts("0123456789abcdef", ip, ports); err != nil {
		t.Fatal(err)
	}
	if err := f.removePorts("0123456789abcdef", ip, ports); err != nil {
		t.Fatal(err)
	}
	got := restoresOf(&kernel.Plan{Ops: p.Ops[from:]})
	if len(got) != 2 || got[0] != portsInput || got[1] != unpublishInput {
		t.Errorf("publish and unpublish:\n%s\nwant:\n%s%s", strings.Join(got, "----\n"), portsInput, unpublishInput)
	}
}

// When the kernel is not as the records say, the failed restore changes
// nothing of its table, and what is left is done from what the kernel
// has: here a network's rules deleted by hand but one, and mydocker's
// chains there.
func TestRestoreFallsBackToTheKernel(t *testing.T) {
	world := kernel.MapWorld{}
	for _, c := range baseChains {
		world[kernel.ChainObj(c.Table, c.Name)] = true
	}
	for _, j := range baseJumps() {
		world[j.Object()] = true
	}
	rs := NetworkRules("web", "10.20.0.0/24")
	world[rs[3].Object()] = true // filter MYDOCKER-FORWARD -i web -j ACCEPT
	f, p := planFirewall(t, world, "web")
	if err := f.removeNetwork("web", "web", "10.20.0.0/24", true); err != nil {
		t.Fatal(err)
	}
	want := `*filter
-D MYDOCKER-FORWARD -i web -m comment --comment mydocker:web -j ACCEPT
-D MYDOCKER-FORWARD -j MYDOCKER-ISOLATION-1
-D FORWARD -j MYDOCKER-FORWARD
-F MYDOCKER-FORWARD
-X MYDOCKER-FORWARD
-F MYDOCKER-ISOLATION-1
-X MYDOCKER-ISOLATION-1
-F MYDOCKER-ISOLATION-2
-X MYDOCKER-ISOLATION-2
COMMIT
*nat
-D PREROUTING -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j MYDOCKER
-D OUTPUT -m addrtype --dst-type LOCAL -j MYDOCKER
-D POSTROUTING -j MYDOCKER-POSTROUTING
-F MYDOCKER-POSTROUTING
-X MYDOCKER-POSTROUTING
-F MYDOCKER
-X MYDOCKER
COMMIT
`
	if got := restoresOf(p); len(got) != 1 || got[0] != want {
		t.Errorf("narrated:\n%s\nwant only what was done:\n%s", strings.Join(got, "----\n"), want)
	}
	if made, removed := p.Made(), p.Removed(); len(made) != 0 || len(removed) != len(world) {
		t.Errorf("made %v, removed %d of %d", made, len(removed), len(world))
	}
	// A foreign rule in a base chain keeps the chains.
	world = kernel.MapWorld{kernel.ChainObj("nat", chainPostrouting): true, kernel.ChainObj("nat", chainNat): true,
		kernel.Rule{Table: "nat", Chain: chainPostrouting, Args: []string{"-j", "RETURN"}}.Object(): true}
	f, p = planFirewall(t, world, "web")
	if err := f.removeNetwork("web", "web", "10.20.0.0/24", true); err != nil {
		t.Fatal(err)
	}
	if got := restoresOf(p); len(got) != 0 {
		t.Errorf("removed what is not ours:\n%s", strings.Join(got, "----\n"))
	}
}

// The injected failure of a restore (not the kernel's refusal of a line)
// is not retried: the caller's rollback runs.
func TestRestoreErrorsOtherThanTheKernelsAreNotRetried(t *testing.T) {
	f, p := planFirewall(t, kernel.MapWorld{}, "web")
	p.Fail = func(kernel.Op) error { return errInjected }
	if err := f.addNetwork("web", "web", "10.20.0.0/24"); !errors.Is(err, errInjected) {
		t.Fatalf("err = %v", err)
	}
	if len(p.Ops) != 0 {
		t.Errorf("planned %d ops", len(p.Ops))
	}
}

// BenchmarkRuleBuilders is the rules and the restore input of a network
// create and of a container's published ports: pure work, no kernel.
func BenchmarkRuleBuilders(b *testing.B) {
	ports, _ := ParsePortMappings([]string{"8080:80", "127.0.0.1:5353:53/udp", "8443:443"})
	ip := net.ParseIP("10.20.0.2").To4()
	for i := 0; i < b.N; i++ {
		_ = restoreInput(change{setupBase: true, add: NetworkRules("web", "10.20.0.0/24")})
		rs := portRules("0123456789abcdef", ip, ports)
		_ = restoreInput(change{newChains: []chain{{"nat", portChain("0123456789abcdef"), ""}}, add: rs})
	}
}
