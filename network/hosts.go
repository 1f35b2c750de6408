package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"
)

// hostsContent is a container's /etc/hosts: localhost, its --add-host
// lines (docker writes them there too), its own address under its
// hostname, name and aliases, and the other containers of its networks
// (peers may hold self's own entries on other networks: those are
// written too, one line per address).
func hostsContent(self *Endpoint, peers []*Endpoint) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	// The --add-host lines are on the endpoint of the network the container
	// was run on; one it joined later (network connect) has none.
	extra := self.ExtraHosts
	for _, ep := range peers {
		if ep.ID == self.ID && len(ep.ExtraHosts) > 0 {
			extra = ep.ExtraHosts
		}
	}
	b.WriteString(ExtraHostsLines(extra))
	seen := map[string]bool{}
	line := func(ep *Endpoint) {
		names := []string{}
		for _, n := range append([]string{ep.Hostname, ep.Name}, ep.Aliases...) {
			if n != "" && !contains(names, n) {
				names = append(names, n)
			}
		}
		if len(names) > 0 && !seen[ep.IP] {
			seen[ep.IP] = true
			fmt.Fprintf(&b, "%s\t%s\n", ep.IP, strings.Join(names, " "))
		}
	}
	line(self)
	sorted := append([]*Endpoint(nil), peers...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, ep := range sorted {
		if ep.ID == self.ID {
			line(ep)
		}
	}
	for _, ep := range sorted {
		if ep.ID != self.ID {
			line(ep)
		}
	}
	return b.Bytes()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// resolvConfContent is a container's /etc/resolv.conf: the host's, with
// nameservers on 127.x / ::1 dropped (they are the host's local resolver,
// unreachable from the container's namespace), or the --dns servers; as
// docker does, Google's public servers when nothing usable is left.
func resolvConfContent(host []byte, dns []string) ([]byte, error) {
	for _, d := range dns {
		if net.ParseIP(d) == nil {
			return nil, fmt.Errorf("invalid --dns %q: not an IP address", d)
		}
	}
	var b bytes.Buffer
	var servers []string
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				if ip := net.ParseIP(f[1]); ip != nil && !ip.IsLoopback() {
					servers = append(servers, f[1])
				}
			}
		case "search", "domain", "options":
			b.WriteString(line + "\n")
		}
	}
	if len(dns) > 0 {
		servers = dns
	}
	if len(servers) == 0 {
		servers = []string{"8.8.8.8", "8.8.4.4"}
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	return b.Bytes(), nil
}

// HostGateway is --add-host's IP that stands for the gateway of the
// container's network (docker's name): the host, as the container reaches it.
const HostGateway = "host-gateway"

// ParseExtraHost reads one --add-host as docker does: NAME:IP or NAME=IP
// (an IPv6 address may be in brackets), IP an address or host-gateway.
func ParseExtraHost(spec string) (name, ip string, err error) {
	sep := strings.IndexAny(spec, "=:")
	if i := strings.Index(spec, "="); i >= 0 {
		sep = i
	}
	if sep <= 0 {
		return "", "", fmt.Errorf("invalid --add-host %q: want NAME:IP", spec)
	}
	name, ip = spec[:sep], strings.TrimSuffix(strings.TrimPrefix(spec[sep+1:], "["), "]")
	if strings.ContainsAny(name, " \t\n#") {
		return "", "", fmt.Errorf("invalid --add-host %q: bad host name %q", spec, name)
	}
	if ip != HostGateway && net.ParseIP(ip) == nil {
		return "", "", fmt.Errorf("invalid --add-host %q: %q is not an IP address (or host-gateway)", spec, ip)
	}
	return name, ip, nil
}

// ResolveExtraHosts gives host-gateway in each NAME:IP its address; specs
// were checked by ParseExtraHost.
func ResolveExtraHosts(specs []string, gateway string) []string {
	out := make([]string, 0, len(specs))
	for _, s := range specs {
		name, ip, err := ParseExtraHost(s)
		if err != nil {
			continue
		}
		if ip == HostGateway {
			ip = gateway
		}
		out = append(out, name+":"+ip)
	}
	return out
}

// ExtraHostsLines are resolved NAME:IP entries as /etc/hosts lines.
func ExtraHostsLines(specs []string) string {
	var b strings.Builder
	for _, s := range specs {
		if name, ip, err := ParseExtraHost(s); err == nil && ip != HostGateway {
			fmt.Fprintf(&b, "%s\t%s\n", ip, name)
		}
	}
	return b.String()
}
