package testns

import (
	"regexp"
	"strings"
)

var (
	macRE     = regexp.MustCompile(`([0-9a-f]{2}:){5}[0-9a-f]{2}`)
	ifindexRE = regexp.MustCompile(`(?m)^\d+: `)
	operRE    = regexp.MustCompile(` state (UP|DOWN|UNKNOWN|LOWERLAYERDOWN) `)
	ifRefRE   = regexp.MustCompile(`@if\d+|link-netnsid \d+|link-netns \S+|\[\d+:\d+\]`)
	carrierRE = regexp.MustCompile(`NO-CARRIER,|\blinkdown\b`)
)

// NormalizeDump drops from a dump of network state (ip, bridge and
// iptables-save output) what differs between two identical setups made in
// different namespaces: interface indexes, the peers' references, the
// operational state and the carrier (a bridge that loses its last port
// drops its carrier when the kernel's linkwatch gets to it, up to a second
// later: the link's NO-CARRIER flag, its routes' "linkdown"), random MACs (the host
// ends' and the bridges'; a container's is derived from its address),
// counters, comments and blank lines.
func NormalizeDump(dump string) string {
	var out []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		l = ifindexRE.ReplaceAllString(l, " ")
		l = operRE.ReplaceAllString(l, " ")
		l = carrierRE.ReplaceAllString(l, "")
		l = ifRefRE.ReplaceAllString(l, " ")
		l = macRE.ReplaceAllStringFunc(l, func(m string) string {
			if strings.HasPrefix(m, "02:42:") || m == "ff:ff:ff:ff:ff:ff" || m == "00:00:00:00:00:00" {
				return m
			}
			return "<mac>"
		})
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}
