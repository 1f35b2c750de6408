package network

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/mydocker/mydocker/internal/names"
)

// Mermaid draws a network as a Mermaid flowchart (GitHub renders it in
// Markdown): the host with the bridge (its gateway and subnet) and the
// MASQUERADE rule to the outside, and for each container (in address order)
// its veth pair, its interface with address and MAC, and its published
// ports (hostIP:hostPort → container:port, DNAT'd by the host). It draws
// the recorded state, as `network inspect` shows it.
func Mermaid(nw *Network) string {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	prefix := ""
	if _, subnet, err := net.ParseCIDR(nw.Subnet); err == nil {
		ones, _ := subnet.Mask.Size()
		prefix = fmt.Sprintf("/%d", ones)
	}
	w("flowchart LR")
	w("  outside((\"outside world\"))")
	w("  subgraph host[\"host\"]")
	w("    bridge[\"bridge %s<br/>gateway %s%s<br/>subnet %s\"]", mmd(nw.Bridge), mmd(nw.Gateway), prefix, mmd(nw.Subnet))
	w("    masq{{\"MASQUERADE<br/>-s %s ! -o %s\"}}", mmd(nw.Subnet), mmd(nw.Bridge))
	eps := endpointsByIP(nw)
	for i, ep := range eps {
		w("    veth%d[\"%s\"]", i, mmd(ep.Veth))
		for j, p := range ep.Ports {
			host := p.HostIP
			if host == "" {
				host = "0.0.0.0"
			}
			w("    port%d_%d[/\"%s:%d/%s\"/]", i, j, mmd(host), p.HostPort, mmd(p.Proto))
		}
	}
	w("  end")
	for i, ep := range eps {
		title := names.ShortID(ep.ID)
		if ep.Name != "" {
			title = ep.Name + " " + title
		}
		w("  subgraph c%d[\"container %s\"]", i, mmd(title))
		w("    if%d[\"%s<br/>%s%s<br/>%s\"]", i, mmd(ep.Ifname), mmd(ep.IP), prefix, mmd(ep.MAC))
		w("  end")
	}
	w("  bridge -->|\"%s\"| masq -->|\"source rewritten to the host's address\"| outside", "leaves the subnet")
	for i, ep := range eps {
		w("  bridge --- veth%d ===|\"veth pair\"| if%d", i, i)
		for j, p := range ep.Ports {
			w("  outside -->|\"DNAT\"| port%d_%d -->|\"%s:%d\"| if%d", i, j, mmd(ep.IP), p.ContainerPort, i)
		}
	}
	return b.String()
}

// endpointsByIP lists a network's endpoints in address order (ids are
// random, addresses are handed out in order: the picture stays stable).
func endpointsByIP(nw *Network) []*Endpoint {
	eps := make([]*Endpoint, 0, len(nw.Containers))
	for _, ep := range nw.Containers {
		eps = append(eps, ep)
	}
	key := func(ep *Endpoint) string {
		if ip := net.ParseIP(ep.IP).To4(); ip != nil {
			return string(ip)
		}
		return ep.IP
	}
	sort.Slice(eps, func(i, j int) bool {
		if ki, kj := key(eps[i]), key(eps[j]); ki != kj {
			return ki < kj
		}
		return eps[i].ID < eps[j].ID
	})
	return eps
}

// mmd makes text safe inside a quoted Mermaid label.
func mmd(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}
