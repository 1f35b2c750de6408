package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// NetIO sums the bytes received and sent by the interfaces of pid's
// network namespace, lo left out (docker's NET I/O), from
// /proc/PID/net/dev, which shows the namespace of the process it names.
func NetIO(pid int) (rx, tx uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0, err
	}
	rx, tx = ParseNetDev(string(b))
	return rx, tx, nil
}

// ParseNetDev reads /proc/net/dev's table: after two header lines,
// "IFACE: rx_bytes rx_packets ... (8 receive columns) tx_bytes ...".
func ParseNetDev(data string) (rx, tx uint64) {
	for _, line := range strings.Split(data, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 == nil && err2 == nil {
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}
