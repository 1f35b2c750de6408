package cgroups

import (
	"errors"
	"strconv"
)

// ErrNoUpdate is `update` without a flag: nothing to change.
var ErrNoUpdate = errors.New("you must provide one or more flags when using this command")

// Given reports whether any flag of f was given.
func (f Flags) Given() bool { return f != Flags{} }

// Update applies the flags of `update` to the limits cur a container has,
// with docker's rules: only what is given changes; --memory-swap alone keeps
// the memory limit; --memory alone keeps the swap limit, which must still
// be at least the memory; --cpus replaces a CFS period and quota but a
// quota cannot be given while --cpus is set; --pids-limit 0 is no limit.
func (f Flags) Update(cur Resources, h HostCPUs) (*Resources, error) {
	if !f.Given() {
		return nil, ErrNoUpdate
	}
	check := f
	if check.MemorySwap != "" && check.Memory == "" && cur.Memory > 0 {
		check.Memory = strconv.FormatInt(cur.Memory, 10)
	}
	if check.PidsLimit == "0" {
		check.PidsLimit = "-1"
	}
	p, err := check.ParseFor(h)
	if err != nil {
		return nil, err
	}
	next := cur
	if f.Memory != "" {
		if f.MemorySwap == "" && cur.MemorySwap > 0 && cur.MemorySwap < p.Memory {
			return nil, errors.New("memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		next.Memory = p.Memory
	}
	if f.MemorySwap != "" {
		next.MemorySwap = p.MemorySwap
	}
	if f.CPUShares != "" {
		next.CPUShares = p.CPUShares
	}
	if f.CPUs != "" {
		next.NanoCPUs, next.CPUPeriod, next.CPUQuota = p.NanoCPUs, 0, 0
	}
	if f.CPUPeriod != "" || f.CPUQuota != "" {
		if next.NanoCPUs != 0 {
			return nil, errors.New("conflicting options: CPU quota or period cannot be updated as NanoCPUs (--cpus) has already been set")
		}
		if f.CPUPeriod != "" {
			next.CPUPeriod = p.CPUPeriod
		}
		if f.CPUQuota != "" {
			next.CPUQuota = p.CPUQuota
		}
	}
	if f.CpusetCpus != "" {
		next.CpusetCpus = p.CpusetCpus
	}
	if f.CpusetMems != "" {
		next.CpusetMems = p.CpusetMems
	}
	if f.PidsLimit != "" {
		next.PidsLimit = p.PidsLimit
	}
	return &next, nil
}
