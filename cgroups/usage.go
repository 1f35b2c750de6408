package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// HostCPU is one reading of the whole machine's CPU time, the yardstick
// `stats` measures a container's CPU use against (as docker does).
type HostCPU struct {
	TotalNs uint64 // CPU time of all CPUs together, every state, in ns
	Online  int    // CPUs the kernel counts in /proc/stat
}

// userHZ is the unit of /proc/stat: the kernel's USER_HZ, 100 on every
// Linux ABI.
const userHZ = 100

// ReadHostCPU reads /proc/stat.
func ReadHostCPU() (HostCPU, error) { return readHostCPU("/proc/stat") }

func readHostCPU(path string) (HostCPU, error) {
	f, err := os.Open(path)
	if err != nil {
		return HostCPU{}, fmt.Errorf("read host CPU time: %w", err)
	}
	defer f.Close()
	var h HostCPU
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "cpu") {
			continue
		}
		if fields[0] != "cpu" {
			h.Online++
			continue
		}
		// user nice system idle iowait irq softirq steal (guest time is
		// already inside user and nice).
		for i, v := range fields[1:] {
			if i >= 8 {
				break
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return HostCPU{}, fmt.Errorf("parse %s: %w", path, err)
			}
			h.TotalNs += n * (1e9 / userHZ)
		}
	}
	if err := sc.Err(); err != nil {
		return HostCPU{}, fmt.Errorf("read %s: %w", path, err)
	}
	if h.TotalNs == 0 {
		return HostCPU{}, fmt.Errorf("no cpu line in %s", path)
	}
	return h, nil
}

// CPUPercent is docker's CPU %: the container's share of all the CPU time
// that passed between two readings, times the number of CPUs, so one busy
// thread shows about 100% and the whole of a 2-CPU machine 200%.
func CPUPercent(prevUsage, curUsage uint64, prev, cur HostCPU) float64 {
	if curUsage < prevUsage || cur.TotalNs <= prev.TotalNs {
		return 0
	}
	online := cur.Online
	if online == 0 {
		online = 1
	}
	return float64(curUsage-prevUsage) / float64(cur.TotalNs-prev.TotalNs) * float64(online) * 100
}
