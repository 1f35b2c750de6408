package cgroups

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestReadHostCPU(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stat")
	stat := "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1 2 3\n"
	if err := os.WriteFile(p, []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := readHostCPU(p)
	if err != nil {
		t.Fatal(err)
	}
	if h.TotalNs != 1000*1e7 || h.Online != 2 {
		t.Errorf("got %+v, want 10s over 2 CPUs", h)
	}
}

func TestCPUPercent(t *testing.T) {
	prev := HostCPU{TotalNs: 0, Online: 2}
	cur := HostCPU{TotalNs: 2e9, Online: 2} // one second of wall time on 2 CPUs
	for _, tc := range []struct {
		used uint64
		want float64
	}{{0, 0}, {5e8, 50}, {1e9, 100}, {2e9, 200}} {
		if got := CPUPercent(0, tc.used, prev, cur); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("%d ns used: %.2f%%, want %.2f%%", tc.used, got, tc.want)
		}
	}
	if got := CPUPercent(10, 5, prev, cur); got != 0 {
		t.Errorf("a counter that went back gives %.2f, want 0", got)
	}
}
