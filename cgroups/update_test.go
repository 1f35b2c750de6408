package cgroups

import (
	"strings"
	"testing"
)

func TestFlagsUpdate(t *testing.T) {
	h := HostCPUs{NumCPU: 2}
	cur := Resources{Memory: 64 << 20, MemorySwap: 128 << 20, CPUShares: 512, PidsLimit: 20, CpusetCpus: "0"}
	for _, tc := range []struct {
		name string
		f    Flags
		want Resources
		err  string
	}{
		{"nothing", Flags{}, Resources{}, "one or more flags"},
		{"memory within swap", Flags{Memory: "100m"}, Resources{Memory: 100 << 20, MemorySwap: 128 << 20, CPUShares: 512, PidsLimit: 20, CpusetCpus: "0"}, ""},
		{"memory above swap", Flags{Memory: "256m"}, Resources{}, "update the memoryswap at the same time"},
		{"memory and swap", Flags{Memory: "256m", MemorySwap: "-1"}, Resources{Memory: 256 << 20, MemorySwap: -1, CPUShares: 512, PidsLimit: 20, CpusetCpus: "0"}, ""},
		{"swap alone keeps memory", Flags{MemorySwap: "96m"}, Resources{Memory: 64 << 20, MemorySwap: 96 << 20, CPUShares: 512, PidsLimit: 20, CpusetCpus: "0"}, ""},
		{"swap below memory", Flags{MemorySwap: "32m"}, Resources{}, "must be at least --memory"},
		{"cpus", Flags{CPUs: "0.5"}, Resources{Memory: 64 << 20, MemorySwap: 128 << 20, CPUShares: 512, PidsLimit: 20, CpusetCpus: "0", NanoCPUs: 5e8}, ""},
		{"pids 0 is unlimited", Flags{PidsLimit: "0"}, Resources{Memory: 64 << 20, MemorySwap: 128 << 20, CPUShares: 512, PidsLimit: -1, CpusetCpus: "0"}, ""},
		{"bad value", Flags{CPUShares: "1"}, Resources{}, "minimum is 2"},
		{"cpuset out of range", Flags{CpusetCpus: "7"}, Resources{}, "cpuset"},
	} {
		got, err := tc.f.Update(cur, h)
		if tc.err != "" {
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.err)) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got.Memory != tc.want.Memory || got.MemorySwap != tc.want.MemorySwap || got.CPUShares != tc.want.CPUShares ||
			got.PidsLimit != tc.want.PidsLimit || got.CpusetCpus != tc.want.CpusetCpus || got.NanoCPUs != tc.want.NanoCPUs {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	// A quota cannot join --cpus; --cpus replaces a quota.
	withCPUs := cur
	withCPUs.NanoCPUs = 1e9
	if _, err := (Flags{CPUQuota: "50000"}).Update(withCPUs, h); err == nil {
		t.Error("a quota while --cpus is set was accepted")
	}
	withQuota := cur
	withQuota.CPUQuota, withQuota.CPUPeriod = 50000, 100000
	if got, err := (Flags{CPUs: "1"}).Update(withQuota, h); err != nil || got.CPUQuota != 0 || got.CPUPeriod != 0 || got.NanoCPUs != 1e9 {
		t.Errorf("--cpus over a quota: %+v, %v", got, err)
	}
}
