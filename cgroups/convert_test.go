package cgroups

import "testing"

func TestCFSQuotaPeriod(t *testing.T) {
	for _, tc := range []struct {
		r             Resources
		quota         int64
		period        uint64
		cpuMax        string
		cpuMaxWritten bool
	}{
		{Resources{}, 0, 0, "", false},
		{Resources{NanoCPUs: 5e8}, 50000, 100000, "50000 100000", true},
		{Resources{NanoCPUs: 15e8}, 150000, 100000, "150000 100000", true},
		{Resources{NanoCPUs: 1e7}, 1000, 100000, "1000 100000", true},
		{Resources{NanoCPUs: 2e9}, 200000, 100000, "200000 100000", true},
		{Resources{CPUQuota: 25000, CPUPeriod: 50000}, 25000, 50000, "25000 50000", true},
		{Resources{CPUQuota: 25000}, 25000, 0, "25000 100000", true},
		{Resources{CPUPeriod: 50000}, 0, 50000, "max 50000", true},
	} {
		q, p := cfsQuotaPeriod(&tc.r)
		if q != tc.quota || p != tc.period {
			t.Errorf("cfsQuotaPeriod(%+v) = %d, %d; want %d, %d", tc.r, q, p, tc.quota, tc.period)
		}
		m, ok := cpuMax(&tc.r)
		if m != tc.cpuMax || ok != tc.cpuMaxWritten {
			t.Errorf("cpuMax(%+v) = %q, %v; want %q, %v", tc.r, m, ok, tc.cpuMax, tc.cpuMaxWritten)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, weight := range map[uint64]uint64{0: 0, 1: 1, 2: 1, 512: 20, 1024: 39, 2048: 79, 262144: 10000} {
		if got := sharesToWeight(shares); got != weight {
			t.Errorf("sharesToWeight(%d) = %d, want %d", shares, got, weight)
		}
	}
}

func TestSwapMax(t *testing.T) {
	for _, tc := range []struct {
		mem, swap int64
		want      string
		ok        bool
	}{
		{0, 0, "", false},
		{64 << 20, 0, "", false},
		{64 << 20, 64 << 20, "0", true},
		{64 << 20, 128 << 20, "67108864", true},
		{64 << 20, -1, "max", true},
	} {
		got, ok := swapMax(&Resources{Memory: tc.mem, MemorySwap: tc.swap})
		if got != tc.want || ok != tc.ok {
			t.Errorf("swapMax(%d, %d) = %q, %v; want %q, %v", tc.mem, tc.swap, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPidsMax(t *testing.T) {
	for limit, want := range map[int64]string{0: "", -1: "max", 20: "20"} {
		if got, _ := pidsMax(limit); got != want {
			t.Errorf("pidsMax(%d) = %q, want %q", limit, got, want)
		}
	}
}
