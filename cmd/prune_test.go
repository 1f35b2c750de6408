package cmd

import "testing"

// humanSize writes sizes as docker's "Total reclaimed space" does.
func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0B", 212: "212B", 999: "999B", 1000: "1kB", 1234: "1.234kB", 31800: "31.8kB",
		12345678: "12.35MB", 5 * 1000 * 1000 * 1000: "5GB",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
