package cgroups

import (
	"fmt"
	"path/filepath"
	"strings"

	devconfig "github.com/opencontainers/cgroups/devices/config"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// The device cgroup: which device nodes the container's processes may open
// (read, write) or make (mknod), whatever their capabilities. The rules
// themselves, docker's allowlist and the BPF program, are container/security's;
// here they reach the container's cgroup. On v1 the devices controller takes
// them as writes to devices.deny and devices.allow, and shows the result in
// devices.list, which is read back and checked. On v2 there is no devices
// file: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, attached to the
// cgroup, decides each access. A hybrid host gets both (the kernel asks the
// program, then the v1 list).

// deviceRules is the rule list of r: r.Devices, or docker's allowlist when
// it has none.
func deviceRules(r *Resources) []*devconfig.Rule {
	if r == nil || len(r.Devices) == 0 {
		return security.DefaultDeviceRules()
	}
	return r.Devices
}

// devicesV1 is the ops that set the v1 devices cgroup at dir to rules:
// the list the kernel will show (security.ExpectedDevicesList), written as
// `a` to devices.deny, then each entry to devices.allow ("a" alone to
// devices.allow for --privileged's every device), then the list read back
// and checked.
func devicesV1(fs *kernel.CgroupFS, dir string, rules []*devconfig.Rule) ([]kernel.Op, error) {
	want, err := security.ExpectedDevicesList(rules)
	if err != nil {
		return nil, fmt.Errorf("device rules: %w", err)
	}
	var ops []kernel.Op
	if allowsAll(want) {
		ops = append(ops, write(fs, "--privileged: the container may use every device", dir, "devices.allow", "a"))
	} else {
		ops = append(ops, write(fs, "docker's device allowlist: first deny every device, then allow only the nodes a container needs", dir, "devices.deny", "a"))
		for _, e := range want {
			ops = append(ops, write(fs, allowWhy(e), dir, "devices.allow", e.String()))
		}
	}
	return append(ops, checkDevicesList{dir: dir, rules: rules}), nil
}

func allowsAll(list []security.DeviceEntry) bool {
	return len(list) == 1 && list[0].Type == 'a'
}

// devNames are the nodes of docker's allowlist, by type, major and minor.
var devNames = map[string]string{
	"c 1:3": "/dev/null", "c 1:5": "/dev/zero", "c 1:7": "/dev/full", "c 1:8": "/dev/random",
	"c 1:9": "/dev/urandom", "c 5:0": "/dev/tty", "c 5:1": "/dev/console", "c 5:2": "/dev/ptmx",
	"c 136:*": "the pseudo-terminals /dev/pts/N", "c 10:200": "/dev/net/tun", "c 10:229": "/dev/fuse",
}

// allowWhy says what an allowed entry lets the container do.
func allowWhy(e security.DeviceEntry) string {
	what := map[rune]string{'r': "read", 'w': "write", 'm': "mknod"}
	var can []string
	for _, p := range e.Perms {
		can = append(can, what[p])
	}
	key, _, _ := strings.Cut(e.String(), " "+e.Perms)
	switch {
	case e.Major == devconfig.Wildcard && e.Minor == devconfig.Wildcard && e.Perms == "m":
		kind := map[rune]string{'c': "character", 'b': "block"}[e.Type]
		return "let it make any " + kind + " device node (mknod); opening one still needs a rule of its own"
	case devNames[key] != "":
		return "allow " + devNames[key] + ": " + strings.Join(can, ", ")
	}
	return "allow the device " + key + ": " + strings.Join(can, ", ")
}

// checkDevicesList reads a v1 devices cgroup's devices.list back: the
// kernel merges the writes into its own list, which must be exactly the
// one the rules mean, or the container does not start.
type checkDevicesList struct {
	dir   string
	rules []*devconfig.Rule
}

func (c checkDevicesList) Why() string {
	return "read the list back: the kernel's merged list must be exactly the allowlist, or the container does not start"
}
func (c checkDevicesList) Command() kernel.Command {
	return kernel.Command{Argv: []string{"cat", filepath.Join(c.dir, "devices.list")}}
}
func (c checkDevicesList) Apply(*kernel.Exec) error { return security.VerifyDevicesV1(c.dir, c.rules) }

// deviceProgram loads the BPF device program of rules and attaches it to
// the cgroup2 directory dir (replacing one attached there before). The
// attachment goes with the cgroup when it is removed.
type deviceProgram struct {
	dir    string
	rules  []*devconfig.Rule
	attach func(dir string, rules []*devconfig.Rule) error // nil: security.ApplyDevicesV2
}

func (d deviceProgram) Why() string {
	return "docker's device allowlist on the cgroup2 hierarchy: the kernel runs this program at every open or mknod of a device node by the container, and refuses what it does not allow"
}
func (d deviceProgram) Command() kernel.Command {
	allows := "every device"
	if list, err := security.ExpectedDevicesList(d.rules); err == nil && !allowsAll(list) {
		var s []string
		for _, e := range list {
			s = append(s, e.String())
		}
		allows = "only " + strings.Join(s, ", ")
	}
	return kernel.Command{Comment: "mydocker loads an eBPF device program (bpf(2) BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE) that allows " +
		allows + ", and attaches it to " + d.dir + " (BPF_PROG_ATTACH): no shell command attaches one"}
}
func (d deviceProgram) Apply(*kernel.Exec) error {
	attach := d.attach
	if attach == nil {
		attach = security.ApplyDevicesV2
	}
	return attach(d.dir, d.rules)
}
