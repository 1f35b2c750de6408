package cgroups

import "strconv"

// All unit conversions between the run flags and the cgroup files live here,
// so that v1 and v2 agree and the tables in convert_test.go cover them.

// DefaultCPUPeriod is the CFS period --cpus is expressed over (100ms), the
// kernel's and docker's default.
const DefaultCPUPeriod uint64 = 100000

// cfsQuotaPeriod is the CFS bandwidth to program: from --cpus (a fraction of
// DefaultCPUPeriod) or from --cpu-quota/--cpu-period as given. A zero quota
// means "no quota"; a zero period means "leave the kernel's".
func cfsQuotaPeriod(r *Resources) (quota int64, period uint64) {
	if r.NanoCPUs > 0 {
		period = DefaultCPUPeriod
		if r.CPUPeriod != 0 {
			period = r.CPUPeriod
		}
		return r.NanoCPUs * int64(period) / 1e9, period
	}
	return r.CPUQuota, r.CPUPeriod
}

// cpuMax is the v2 cpu.max line "<quota> <period>" ("max" for no quota), and
// false when neither is set.
func cpuMax(r *Resources) (string, bool) {
	quota, period := cfsQuotaPeriod(r)
	if quota == 0 && period == 0 {
		return "", false
	}
	q := "max"
	if quota > 0 {
		q = strconv.FormatInt(quota, 10)
	}
	if period == 0 {
		period = DefaultCPUPeriod
	}
	return q + " " + strconv.FormatUint(period, 10), true
}

// sharesToWeight maps v1 cpu.shares [2, 262144] linearly onto v2 cpu.weight
// [1, 10000], the formula runc and crun use (1024 -> 39). 0 stays 0 (unset).
func sharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares < 2 {
		shares = 2
	}
	return 1 + ((shares-2)*9999)/262142
}

// swapMax is v2's memory.swap.max: v2 limits swap alone, v1 and docker's
// --memory-swap limit memory+swap, so it is the difference ("max" for -1).
// false when there is nothing to write.
func swapMax(r *Resources) (string, bool) {
	switch {
	case r.MemorySwap == -1:
		return "max", true
	case r.MemorySwap > 0 && r.Memory > 0:
		return strconv.FormatInt(r.MemorySwap-r.Memory, 10), true
	}
	return "", false
}

// defaultSwap says whether MemorySwap is docker's default, twice the
// memory limit, rather than a --memory-swap the user chose: a host that
// does not account swap can go without the default (docker warns), not
// without a limit asked for.
func (r *Resources) defaultSwap() bool { return r.Memory > 0 && r.MemorySwap == 2*r.Memory }

// pidsMax is pids.max: "max" for -1, and false for 0 (leave the default).
func pidsMax(limit int64) (string, bool) {
	switch {
	case limit < 0:
		return "max", true
	case limit > 0:
		return strconv.FormatInt(limit, 10), true
	}
	return "", false
}

// unlimitedV1 is above any real v1 memory limit: the kernel reports "no
// limit" as PAGE_COUNTER_MAX pages (9223372036854771712 on 4k pages).
const unlimitedV1 = 1 << 62
