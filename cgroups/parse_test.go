package cgroups

import (
	"reflect"
	"strings"
	"testing"
)

var twoCPUs = HostCPUs{NumCPU: 2, Cpus: "0-1", Mems: "0"}

func TestParseGood(t *testing.T) {
	for _, tc := range []struct {
		f    Flags
		want Resources
	}{
		{Flags{}, Resources{}},
		{Flags{Memory: "64m"}, Resources{Memory: 64 << 20, MemorySwap: 128 << 20}},
		{Flags{Memory: "64M", MemorySwap: "64m"}, Resources{Memory: 64 << 20, MemorySwap: 64 << 20}},
		{Flags{Memory: "1g", MemorySwap: "-1"}, Resources{Memory: 1 << 30, MemorySwap: -1}},
		{Flags{Memory: "6m"}, Resources{Memory: 6 << 20, MemorySwap: 12 << 20}},
		{Flags{Memory: "7340032"}, Resources{Memory: 7 << 20, MemorySwap: 14 << 20}},
		{Flags{Memory: "7340032b"}, Resources{Memory: 7 << 20, MemorySwap: 14 << 20}},
		{Flags{Memory: "8192k"}, Resources{Memory: 8 << 20, MemorySwap: 16 << 20}},
		{Flags{Memory: "1.5g"}, Resources{Memory: 3 << 29, MemorySwap: 3 << 30}},
		{Flags{Memory: "64MiB"}, Resources{Memory: 64 << 20, MemorySwap: 128 << 20}},
		{Flags{CPUShares: "512"}, Resources{CPUShares: 512}},
		{Flags{CPUs: "0.5"}, Resources{NanoCPUs: 5e8}},
		{Flags{CPUs: "2"}, Resources{NanoCPUs: 2e9}},
		{Flags{CPUs: "0.01"}, Resources{NanoCPUs: 1e7}},
		{Flags{CPUPeriod: "50000", CPUQuota: "25000"}, Resources{CPUPeriod: 50000, CPUQuota: 25000}},
		{Flags{CpusetCpus: "0"}, Resources{CpusetCpus: "0"}},
		{Flags{CpusetCpus: "0-1"}, Resources{CpusetCpus: "0-1"}},
		{Flags{CpusetCpus: "0,1"}, Resources{CpusetCpus: "0,1"}},
		{Flags{CpusetMems: "0"}, Resources{CpusetMems: "0"}},
		{Flags{PidsLimit: "20"}, Resources{PidsLimit: 20}},
		{Flags{PidsLimit: "-1"}, Resources{PidsLimit: -1}},
	} {
		got, err := tc.f.ParseFor(twoCPUs)
		if err != nil {
			t.Errorf("%+v: %v", tc.f, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%+v: got %+v, want %+v", tc.f, *got, tc.want)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		f    Flags
		want string // part of the error
	}{
		{Flags{Memory: "abc"}, `invalid --memory "abc"`},
		{Flags{Memory: "-64m"}, `invalid --memory "-64m"`},
		{Flags{Memory: "64x"}, `invalid --memory "64x"`},
		{Flags{Memory: "4m"}, "minimum memory limit allowed is 6MB"},
		{Flags{Memory: "100"}, "minimum memory limit allowed is 6MB"},
		{Flags{MemorySwap: "64m"}, "--memory-swap 64m needs --memory"},
		{Flags{Memory: "64m", MemorySwap: "32m"}, "must be at least --memory"},
		{Flags{Memory: "64m", MemorySwap: "-2"}, `invalid --memory-swap "-2"`},
		{Flags{CPUShares: "-1"}, "invalid --cpu-shares -1"},
		{Flags{CPUShares: "1"}, "minimum is 2"},
		{Flags{CPUShares: "x"}, `invalid --cpu-shares "x"`},
		{Flags{CPUShares: "300000"}, "invalid --cpu-shares 300000"},
		{Flags{CPUs: "-0.5"}, "invalid --cpus -0.5"},
		{Flags{CPUs: "0"}, "invalid --cpus 0"},
		{Flags{CPUs: "3"}, "only 2 CPUs available"},
		{Flags{CPUs: "half"}, `invalid --cpus "half"`},
		{Flags{CPUs: "NaN"}, `invalid --cpus "NaN"`},
		{Flags{CPUs: "0.5", CPUPeriod: "50000"}, "conflicting options"},
		{Flags{CPUPeriod: "500"}, "can not be less than 1ms"},
		{Flags{CPUPeriod: "2000000"}, "invalid --cpu-period 2000000"},
		{Flags{CPUQuota: "-1"}, "invalid --cpu-quota -1"},
		{Flags{CPUQuota: "999"}, "can not be less than 1ms"},
		{Flags{CpusetCpus: "2"}, "requested CPUs not available: [2] (this machine offers 0-1)"},
		{Flags{CpusetCpus: "0-3"}, "requested CPUs not available: [2 3]"},
		{Flags{CpusetCpus: "0-"}, `invalid --cpuset-cpus "0-"`},
		{Flags{CpusetCpus: "1-0"}, `invalid --cpuset-cpus "1-0"`},
		{Flags{CpusetCpus: "a"}, `invalid --cpuset-cpus "a"`},
		{Flags{CpusetCpus: "-1"}, `invalid --cpuset-cpus "-1"`},
		{Flags{CpusetMems: "1"}, "requested memory nodes not available: [1]"},
		{Flags{PidsLimit: "-5"}, "invalid --pids-limit -5: want a positive number, or -1 for no limit"},
		{Flags{PidsLimit: "many"}, `invalid --pids-limit "many"`},
	} {
		_, err := tc.f.ParseFor(twoCPUs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.f, err, tc.want)
		}
	}
}

// The CPUs a container may ask for are those of the cpuset it inherits, not
// just the machine's count.
func TestParseCpusetAgainstParent(t *testing.T) {
	h := HostCPUs{NumCPU: 4, Cpus: "0,2"}
	if _, err := (Flags{CpusetCpus: "1"}).ParseFor(h); err == nil {
		t.Errorf("CPU 1 outside the parent's cpuset 0,2 was accepted")
	}
	if _, err := (Flags{CpusetCpus: "0,2"}).ParseFor(h); err != nil {
		t.Errorf("CPUs 0,2: %v", err)
	}
}
