package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaskedPaths is moby's current list (daemon/pkg/oci/defaults.go
// defaultLinuxMaskedPaths), with each possible CPU's thermal_throttle
// directory where it exists on this host.
func MaskedPaths() []string {
	paths := []string{
		"/proc/acpi",
		"/proc/asound",
		"/proc/interrupts",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/sched_debug",
		"/proc/scsi",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/sys/devices/virtual/powercap",
		"/sys/firmware",
	}
	if b, err := os.ReadFile("/sys/devices/system/cpu/possible"); err == nil {
		for _, cpu := range parseCPUList(strings.TrimSpace(string(b))) {
			p := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/thermal_throttle", cpu)
			if _, err := os.Stat(p); err == nil {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// parseCPUList reads the kernel's CPU list format ("0-3,8,10-11").
func parseCPUList(s string) []int {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// ReadonlyPaths is moby's list of /proc paths a container sees read-only.
func ReadonlyPaths() []string {
	return []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
}

// PathKind says how a path is hidden or frozen, as runc's rootfs_linux.go
// does it.
type PathKind string

const (
	// MaskFile: bind /dev/null over the file (maskPaths).
	MaskFile PathKind = "mask-file"
	// MaskDir: mount an empty read-only tmpfs on the directory.
	MaskDir PathKind = "mask-dir"
	// ReadOnly: bind the path onto itself (MS_BIND|MS_REC), then remount
	// it MS_BIND|MS_REMOUNT|MS_RDONLY keeping its nosuid/nodev/noexec
	// (readonlyPath).
	ReadOnly PathKind = "read-only"
)

// PathRule is one masking or read-only step, as plain data: the lead's
// mount code carries it out inside the container's mount namespace.
type PathRule struct {
	Path string   `json:"path"`
	Kind PathKind `json:"kind"`
}

// Command is the shell equivalent, for narration.
func (r PathRule) Command() string {
	switch r.Kind {
	case MaskFile:
		return "mount --bind /dev/null " + r.Path
	case MaskDir:
		return "mount -t tmpfs -o ro tmpfs " + r.Path
	case ReadOnly:
		return "mount --rbind " + r.Path + " " + r.Path + " && mount -o remount,bind,ro " + r.Path
	}
	return ""
}

// PathRules turns the masked and read-only lists into steps, deciding file
// or directory with stat (nil: os.Stat, which inside the container's mount
// namespace sees its /proc and /sys). Paths that do not exist are skipped,
// as runc skips them; so are repeats.
func PathRules(masked, readonly []string, stat func(string) (os.FileInfo, error)) []PathRule {
	if stat == nil {
		stat = os.Stat
	}
	var rules []PathRule
	seen := map[string]bool{}
	for _, p := range masked {
		p = filepath.Clean(p)
		if seen[p] {
			continue
		}
		st, err := stat(p)
		if err != nil {
			continue
		}
		seen[p] = true
		kind := MaskFile
		if st.IsDir() {
			kind = MaskDir
		}
		rules = append(rules, PathRule{p, kind})
	}
	for _, p := range readonly {
		p = filepath.Clean(p)
		if _, err := stat(p); err != nil {
			continue
		}
		rules = append(rules, PathRule{p, ReadOnly})
	}
	return rules
}
