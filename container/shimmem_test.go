package container

import (
	"slices"
	"testing"
)

func TestShimEnv(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "GODEBUG=memprofilerate=0"}},
		// The caller's GODEBUG settings are kept; ours is added last, so it wins.
		{[]string{"GODEBUG=madvdontneed=0", "HOME=/root"}, []string{"HOME=/root", "GODEBUG=madvdontneed=0,memprofilerate=0"}},
		{nil, []string{"GODEBUG=memprofilerate=0"}},
	} {
		if got := shimEnv(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("shimEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
