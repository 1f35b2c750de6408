package cgroups

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Flags are the resource flags of `run` as the user typed them ("" = not
// given). Parse turns them into Resources, or refuses them with an error
// that names the flag, before anything is created.
type Flags struct {
	Memory     string // -m, --memory: 64m, 1g, 512k, 1048576b
	MemorySwap string // --memory-swap: memory+swap, -1 unlimited
	CPUShares  string // --cpu-shares
	CPUs       string // --cpus: 0.5, 1.5
	CPUPeriod  string // --cpu-period, µs
	CPUQuota   string // --cpu-quota, µs
	CpusetCpus string // --cpuset-cpus: 0-2,4
	CpusetMems string // --cpuset-mems
	PidsLimit  string // --pids-limit, -1 unlimited
}

// HostCPUs is what the machine lets a container use: the CPUs and memory
// nodes of the cgroup a container's cgroup will inherit from, as lists
// ("0-1"); an empty list is not checked.
type HostCPUs struct {
	NumCPU int
	Cpus   string
	Mems   string
}

// MinMemory is the smallest --memory docker (and so mydocker) accepts: below
// it the kernel's own per-cgroup overhead would OOM-kill a shell at start.
const MinMemory = 6 * 1024 * 1024

// Parse checks f against this host (CPU count, the parent cpuset).
func Parse(f Flags) (*Resources, error) { return f.ParseFor(ThisHostCPUs()) }

// ParseFor checks f against h. Docker's rules and words, where it has them.
func (f Flags) ParseFor(h HostCPUs) (*Resources, error) {
	r := &Resources{}
	var err error
	if r.Memory, err = parseSize("--memory", f.Memory); err != nil {
		return nil, err
	}
	if r.Memory != 0 && r.Memory < MinMemory {
		return nil, fmt.Errorf("invalid --memory %s: minimum memory limit allowed is 6MB", f.Memory)
	}
	switch strings.TrimSpace(f.MemorySwap) {
	case "":
		// Docker's default: as much swap as memory.
		r.MemorySwap = 2 * r.Memory
	case "-1":
		r.MemorySwap = -1
	default:
		if r.MemorySwap, err = parseSize("--memory-swap", f.MemorySwap); err != nil {
			return nil, err
		}
		if r.MemorySwap != 0 && r.MemorySwap < r.Memory {
			return nil, fmt.Errorf("invalid --memory-swap %s: it is memory plus swap, so it must be at least --memory (%s)", f.MemorySwap, f.Memory)
		}
	}
	if f.MemorySwap != "" && r.Memory == 0 {
		return nil, fmt.Errorf("--memory-swap %s needs --memory: it is the memory limit plus swap", f.MemorySwap)
	}
	shares, err := parseInt("--cpu-shares", f.CPUShares, 0, 262144)
	if err != nil {
		return nil, err
	}
	if shares == 1 {
		return nil, fmt.Errorf("invalid --cpu-shares 1: the minimum is 2 (the default is 1024)")
	}
	r.CPUShares = uint64(shares)
	period, err := parseInt("--cpu-period", f.CPUPeriod, 0, 1000000)
	if err != nil {
		return nil, err
	}
	if period != 0 && period < 1000 {
		return nil, fmt.Errorf("invalid --cpu-period %s: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)", f.CPUPeriod)
	}
	r.CPUPeriod = uint64(period)
	if r.CPUQuota, err = parseInt("--cpu-quota", f.CPUQuota, 0, math.MaxInt64); err != nil {
		return nil, err
	}
	if r.CPUQuota != 0 && r.CPUQuota < 1000 {
		return nil, fmt.Errorf("invalid --cpu-quota %s: CPU cfs quota can not be less than 1ms (i.e. 1000)", f.CPUQuota)
	}
	if r.NanoCPUs, err = parseCPUs(f.CPUs, h.NumCPU); err != nil {
		return nil, err
	}
	if r.NanoCPUs != 0 && (r.CPUPeriod != 0 || r.CPUQuota != 0) {
		return nil, fmt.Errorf("conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set")
	}
	if r.CpusetCpus, err = parseCpuset("--cpuset-cpus", f.CpusetCpus, h.Cpus, "CPUs", h.NumCPU); err != nil {
		return nil, err
	}
	if r.CpusetMems, err = parseCpuset("--cpuset-mems", f.CpusetMems, h.Mems, "memory nodes", 0); err != nil {
		return nil, err
	}
	if r.PidsLimit, err = parseInt("--pids-limit", f.PidsLimit, -1, math.MaxInt64); err != nil {
		return nil, err
	}
	return r, nil
}

// parseSize reads a size the way docker's units.RAMInBytes does: a number
// with an optional b, k, m, g, t or p suffix, all powers of 1024.
func parseSize(flag, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	// Compiled here, not at package init: every mydocker process would pay
	// for it, and only `run -m` needs it.
	sizeRe := regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid %s %q: want a size like 64m (suffix b, k, m or g)", flag, s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q: %w", flag, s, err)
	}
	mult := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}[strings.ToLower(m[2])]
	v *= mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid %s %q: too large", flag, s)
	}
	return int64(v), nil
}

// parseInt reads a whole number within [lo, hi].
func parseInt(flag, s string, lo, hi int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q: want a whole number", flag, s)
	}
	if v < lo || v > hi {
		if lo == -1 {
			return 0, fmt.Errorf("invalid %s %s: want a positive number, or -1 for no limit", flag, s)
		}
		if hi == math.MaxInt64 {
			return 0, fmt.Errorf("invalid %s %s: want a positive number", flag, s)
		}
		return 0, fmt.Errorf("invalid %s %s: want a number from %d to %d", flag, s, lo, hi)
	}
	return v, nil
}

// parseCPUs reads --cpus into billionths of a CPU.
func parseCPUs(s string, numCPU int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid --cpus %q: want a number of CPUs like 0.5", s)
	}
	if v < 0.01 || (numCPU > 0 && v > float64(numCPU)) {
		return 0, fmt.Errorf("invalid --cpus %s: range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", s, numCPU, numCPU)
	}
	return int64(math.Round(v * 1e9)), nil
}

// parseCpuset checks a list like "0-2,4" and that every member is in avail
// (and, for CPUs, below numCPU). It returns the list as given, which the
// kernel reads as is.
func parseCpuset(flag, s, avail, what string, numCPU int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	want, err := ParseList(s)
	if err != nil {
		return "", fmt.Errorf("invalid %s %q: %v (want a list like 0-2,4)", flag, s, err)
	}
	have := map[int]bool{}
	if avail != "" {
		if a, err := ParseList(avail); err == nil {
			have = a
		}
	}
	var missing []int
	for c := range want {
		if (numCPU > 0 && c >= numCPU) || (len(have) > 0 && !have[c]) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		sort.Ints(missing)
		offer := avail
		if offer == "" {
			offer = fmt.Sprintf("0-%d", numCPU-1)
		}
		return "", fmt.Errorf("invalid %s %s: requested %s not available: %v (this machine offers %s)", flag, s, what, missing, offer)
	}
	return s, nil
}

// ParseList reads the kernel's list format ("0-2,4,7-8") into a set.
func ParseList(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad item %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("range %q too large", part)
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, nil
}

// ThisHostCPUs reads what a container's cgroup will inherit: the CPUs and
// memory nodes of the root cpuset (mydocker/ copies them from there).
func ThisHostCPUs() HostCPUs {
	h := HostCPUs{NumCPU: runtime.NumCPU()}
	host, err := DetectHost()
	if err != nil {
		return h
	}
	var cpus, mems []string
	if host.Mode == V2 {
		cpus = []string{filepath.Join(host.Unified, "cpuset.cpus.effective")}
		mems = []string{filepath.Join(host.Unified, "cpuset.mems.effective")}
	} else if root, ok := host.Mounts["cpuset"]; ok {
		cpus = []string{filepath.Join(root, "cpuset.effective_cpus"), filepath.Join(root, "cpuset.cpus")}
		mems = []string{filepath.Join(root, "cpuset.effective_mems"), filepath.Join(root, "cpuset.mems")}
	}
	h.Cpus, h.Mems = firstReadable(cpus), firstReadable(mems)
	return h
}

func firstReadable(paths []string) string {
	for _, p := range paths {
		if s, err := readString(p); err == nil && s != "" {
			return s
		}
	}
	return ""
}
