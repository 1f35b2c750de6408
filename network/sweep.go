package network

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
)

// mydocker's kernel objects say whose they are, so that a sweep finds those
// no record names (a record lost with a tmpfs /var/run, a corrupt file
// removed, a hand-deleted state directory):
//   - every rule carries the comment mydocker:<bridge> (a network's, or a
//     netsetgo bridge's) or mydocker:<short id> (a container's ports);
//   - a container's ports have their chain MYDOCKER-P-<short id>;
//   - an endpoint's host end is veth<7 hex of the id><4 hex> (vethName),
//     on a network's bridge.
//
// The patterns are compiled on first use (only a sweep needs them), not at
// package init, which every mydocker process pays.
var (
	endpointVeth = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^veth[0-9a-f]{11}$`) })
	shortID      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{12}$`) })
)

// Sweep removes (under the lock) the kernel objects of mydocker that no
// record names: rules whose comment names neither a network's bridge, nor a
// netsetgo bridge, nor a container with an endpoint; the port chains of
// containers with no endpoint; the bridges named by such rules; endpoint
// veths on mydocker's bridges that no endpoint holds. It returns what it
// removed, one line each. For `system prune`.
func (m *Manager) Sweep() ([]string, error) {
	var out []string
	err := m.locked(func() (err error) { out, err = m.sweep(); return err })
	return out, err
}

func (m *Manager) sweep() ([]string, error) {
	all, err := m.loadAll()
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}   // comment tags with an owner
	bridges := map[string]bool{} // mydocker's bridges: the networks' and orphans'
	veths := map[string]bool{}   // endpoints' host ends
	for _, nw := range all {
		owned[nw.Bridge], bridges[nw.Bridge] = true, true
		for id, ep := range nw.Containers {
			owned[names.ShortID(id)], veths[ep.Veth] = true, true
		}
	}
	// netsetgo's bridges, by their records' names: netsetgo (which imports
	// this package) keeps one file per bridge it changed.
	ngo, err := kernel.StateNames(m.k, filepath.Join(filepath.Dir(m.dir), "netsetgo", "bridges"))
	if err != nil {
		return nil, err
	}
	for _, f := range ngo {
		owned[strings.TrimSuffix(f, ".json")] = true
	}

	lister, ok := m.k.(kernel.Lister)
	if !ok {
		return nil, fmt.Errorf("the kernel seam cannot list rules")
	}
	var done []string
	var errs []error
	// Rules first (a jump before the chain it jumps to).
	var rules []kernel.Rule
	for _, c := range append([]chain{{Table: "nat", Name: chainNat}}, baseChains...) {
		objs, err := lister.Children(kernel.ChainObj(c.Table, c.Name))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			f := strings.Fields(o.Name)
			r := kernel.Rule{Table: f[0], Chain: f[1], Args: f[2:]}
			tag := ruleTag(r.Args)
			if tag == "" || owned[tag] {
				continue
			}
			if !shortID().MatchString(tag) {
				bridges[tag] = true // a network's rule: its bridge is an orphan too
			}
			rules = append(rules, r)
		}
	}
	for _, r := range rules {
		errs = append(errs, m.k.Do(kernel.RuleDelete{Rule: r, Reason: "no record names this rule: sweep it"}))
		done = append(done, "rule "+strings.Join(append([]string{"-t", r.Table, r.Chain}, r.Args...), " "))
	}
	chains, err := lister.Children(kernel.TableObj("nat"))
	if err != nil {
		return nil, err
	}
	for _, c := range chains {
		name := strings.TrimPrefix(c.Name, "nat ")
		id, ok := strings.CutPrefix(name, "MYDOCKER-P-")
		if !ok || owned[id] {
			continue
		}
		ops, err := dropChain(m.k, "nat", name, "the port chain of a container with no endpoint: sweep it")
		errs = append(errs, err, m.k.Do(ops...))
		done = append(done, "chain nat "+name)
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	index := map[int]string{}
	for _, l := range links {
		index[l.Attrs().Index] = l.Attrs().Name
	}
	for _, l := range links {
		a := l.Attrs()
		if endpointVeth().MatchString(a.Name) && !veths[a.Name] && bridges[index[a.MasterIndex]] {
			errs = append(errs, m.k.Do(kernel.LinkDel{Name: a.Name, Reason: "an endpoint's host end that no endpoint holds: sweep it"}))
			done = append(done, "veth "+a.Name)
		}
	}
	for _, l := range links {
		if a := l.Attrs(); l.Type() == "bridge" && bridges[a.Name] && !owned[a.Name] {
			errs = append(errs, m.k.Do(kernel.LinkDel{Name: a.Name, Reason: "a bridge of mydocker's that no network names: sweep it"}))
			done = append(done, "bridge "+a.Name)
		}
	}
	errs = append(errs, Firewall{k: m.k}.ReleaseBase())
	return done, errors.Join(errs...)
}

// ruleTag is the owner a rule of mydocker's names in its comment
// (mydocker:<tag>), "" for none (a base jump).
func ruleTag(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--comment" {
			if tag, ok := strings.CutPrefix(args[i+1], "mydocker:"); ok {
				return tag
			}
		}
	}
	return ""
}
