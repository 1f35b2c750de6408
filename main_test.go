package main

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/joinprime"
)

// joinprime's constructor finds the verb in argv before Go starts, skipping
// the global flags that take a value: its list must be the CLI's.
func TestJoinPrimeKnowsTheGlobalFlags(t *testing.T) {
	var want []string
	for _, f := range newApp().Flags {
		if _, isBool := f.(*cli.BoolFlag); isBool {
			continue
		}
		for _, n := range f.Names() {
			if len(n) == 1 {
				want = append(want, "-"+n)
			} else {
				want = append(want, "--"+n)
			}
		}
	}
	got := joinprime.GlobalValueFlags()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("joinprime.c's global flags with a value: %q; the CLI's: %q", got, want)
	}
}
