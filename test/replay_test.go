package test

import (
	"regexp"
	"strings"
)

// What a replay compares: the host's side of the network (hostDump; the
// container's side is containerDump, in script_replay_test.go), normalised
// for what differs between two runs of the same steps.

const hostDump = `
echo '== links'; ip -o link show
echo '== addrs'; ip -o -4 addr show
echo '== routes'; ip route show
echo '== ports'; bridge -d link show
echo '== iptables'; iptables-save
`

var (
	normREs = []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\d+: `), regexp.MustCompile(`@if\d+|link-netnsid \d+|\[\d+:\d+\]`),
		regexp.MustCompile(` state (UP|DOWN|UNKNOWN|LOWERLAYERDOWN) `),
	}
	anyMAC = regexp.MustCompile(`([0-9a-f]{2}:){5}[0-9a-f]{2}`)
)

func normalizeDump(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		for _, re := range normREs {
			l = re.ReplaceAllString(l, " ")
		}
		l = anyMAC.ReplaceAllStringFunc(l, func(m string) string {
			if strings.HasPrefix(m, "02:42:") || m == "ff:ff:ff:ff:ff:ff" || m == "00:00:00:00:00:00" {
				return m
			}
			return "<mac>"
		})
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}
