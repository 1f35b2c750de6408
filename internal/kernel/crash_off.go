//go:build !crashtest

package kernel

// The release build has no crash-injection switch (see crash_on.go, built
// with the crashtest tag): both are no-ops the compiler drops.

// ArmCrash does nothing in the release build.
func ArmCrash(key string) {}

func crashPoint(Op) {}
