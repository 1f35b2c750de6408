package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"
)

// hostsContent is a container's /etc/hosts: localhost, its own address
// under its hostname and name, and the other containers of its networks
// (peers may hold self's own entries on other networks: those are
// written too, one line per address).
func hostsContent(self *Endpoint, peers []*Endpoint) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	seen := map[string]bool{}
	line := func(ep *Endpoint) {
		names := []string{}
		for _, n := range []string{ep.Hostname, ep.Name} {
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
