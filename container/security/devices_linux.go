package security

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices" // registers runc's v1/v2 device setters
)

// ApplyDevicesV1 sets a cgroup v1 devices controller directory to rules with
// V1Writes, then reads devices.list back and checks it is what
// ExpectedDevicesList says.
func ApplyDevicesV1(dir string, rules []*DeviceRule) error {
	for _, w := range V1Writes(rules) {
		if err := os.WriteFile(filepath.Join(dir, w.File), []byte(w.Line), 0); err != nil {
			return fmt.Errorf("devices cgroup: %s: %w", w.Command(dir), err)
		}
	}
	return VerifyDevicesV1(dir, rules)
}

// VerifyDevicesV1 compares dir's devices.list with the expected list.
func VerifyDevicesV1(dir string, rules []*DeviceRule) error {
	want, err := ExpectedDevicesList(rules)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		return err
	}
	got, err := ParseDevicesList(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if !SameDevicesList(got, want) {
		return fmt.Errorf("devices cgroup %s: devices.list is %q, want %v", dir, b, want)
	}
	return nil
}

// ApplyDevicesV2 generates runc's eBPF device program
// (BPF_PROG_TYPE_CGROUP_DEVICE) from rules and attaches it to the cgroup v2
// directory dir, replacing a program runc's code attached there before. No
// shell command does this; bpftool could only show it.
func ApplyDevicesV2(dir string, rules []*DeviceRule) error {
	if err := cgroups.DevicesSetV2(dir, &cgroups.Resources{Devices: rules}); err != nil {
		return fmt.Errorf("device cgroup program on %s: %w", dir, err)
	}
	return nil
}
