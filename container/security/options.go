package security

import (
	"fmt"
	"strconv"
	"strings"
)

// SecurityOpts is what --security-opt says.
type SecurityOpts struct {
	NoNewPrivileges bool
	// Seccomp is "" (docker's default profile), "unconfined", or a
	// profile file's path.
	Seccomp string
}

// ParseSecurityOpts reads --security-opt values as dockerd's
// parseSecurityOpt does: "no-new-privileges[=true|false]",
// "seccomp=unconfined|builtin|FILE", each also in the old colon form
// ("seccomp:FILE"). Anything else (apparmor, label, which mydocker does not
// have, or a misspelling) is an error that names it.
func ParseSecurityOpts(opts []string) (SecurityOpts, error) {
	var s SecurityOpts
	for _, opt := range opts {
		if opt == "no-new-privileges" {
			s.NoNewPrivileges = true
			continue
		}
		key, val, ok := strings.Cut(opt, "=")
		if !ok {
			key, val, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return s, fmt.Errorf("invalid --security-opt %q: want KEY=VALUE (no-new-privileges, seccomp)", opt)
		}
		switch key {
		case "no-new-privileges":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return s, fmt.Errorf("invalid --security-opt %q: no-new-privileges takes true or false", opt)
			}
			s.NoNewPrivileges = b
		case "seccomp":
			if val == "" {
				return s, fmt.Errorf("invalid --security-opt %q: seccomp takes unconfined or a profile file", opt)
			}
			if val == "builtin" {
				val = ""
			}
			s.Seccomp = val
		case "apparmor", "label", "systempaths", "writable-cgroups", "mask", "unmask":
			return s, fmt.Errorf("unsupported --security-opt %q: mydocker has no %s option", opt, key)
		default:
			return s, fmt.Errorf("unknown --security-opt %q", opt)
		}
	}
	return s, nil
}

// Flags are the docker flags that shape a container's confinement.
type Flags struct {
	CapAdd      []string `json:"cap_add,omitempty"`
	CapDrop     []string `json:"cap_drop,omitempty"`
	Privileged  bool     `json:"privileged,omitempty"`
	SecurityOpt []string `json:"security_opt,omitempty"`
	User        string   `json:"user,omitempty"`
	Devices     []string `json:"devices,omitempty"`
}

// Config is a container's resolved confinement. It is plain JSON: it
// travels to the init in its spec, and the init applies it without
// resolving or compiling anything (Seccomp carries the BPF program).
type Config struct {
	Flags           Flags         `json:"flags"`
	Privileged      bool          `json:"privileged,omitempty"`
	Caps            Caps          `json:"caps"`
	LastCap         int           `json:"last_cap"`
	NoNewPrivileges bool          `json:"no_new_privileges,omitempty"`
	Seccomp         *Seccomp      `json:"seccomp"`
	MaskedPaths     []string      `json:"masked_paths,omitempty"`
	ReadonlyPaths   []string      `json:"readonly_paths,omitempty"`
	DeviceRules     []*DeviceRule `json:"device_rules"`
	Devices         []*Device     `json:"devices,omitempty"`
	User            User          `json:"user"`
}

// Options are what Resolve needs besides the flags.
type Options struct {
	// Rootfs is the container's root, where -u names are looked up.
	Rootfs string
	// Env is the capability environment (HostCapEnv; tests set it).
	Env CapEnv
	// SeccompCache is a directory for BuildSeccompCached ("" compiles
	// every time).
	SeccompCache string
}

// Resolve turns docker's flags into a Config, checking everything that can
// be wrong before anything is created: an unknown capability or
// --security-opt, an unreadable or invalid seccomp profile, a user or group
// the image does not know, a missing --device.
func Resolve(f Flags, o Options) (*Config, error) {
	sopts, err := ParseSecurityOpts(f.SecurityOpt)
	if err != nil {
		return nil, err
	}
	u, err := ResolveUser(o.Rootfs, f.User)
	if err != nil {
		return nil, err
	}
	caps, err := ResolveCaps(o.Env, f.CapAdd, f.CapDrop, f.Privileged, u.NonRoot())
	if err != nil {
		return nil, err
	}
	c := &Config{
		Flags:           f,
		Privileged:      f.Privileged,
		Caps:            caps,
		LastCap:         o.Env.LastCap,
		NoNewPrivileges: sopts.NoNewPrivileges,
		User:            u,
	}
	var devs []*Device
	for _, d := range f.Devices {
		ds, err := ParseDevice(d)
		if err != nil {
			return nil, err
		}
		devs = append(devs, ds...)
	}
	c.Devices = devs
	// The profile file is read and checked even when privileged ignores it.
	var body []byte
	if sopts.Seccomp != "" && sopts.Seccomp != "unconfined" {
		if body, err = ReadProfile(sopts.Seccomp); err != nil {
			return nil, err
		}
	}
	if f.Privileged {
		// docker: all capabilities, no seccomp, no masked or read-only
		// paths, every device.
		c.Seccomp = &Seccomp{Unconfined: true, Profile: "unconfined"}
		c.DeviceRules = PrivilegedDeviceRules()
		return c, nil
	}
	switch sopts.Seccomp {
	case "unconfined":
		c.Seccomp = &Seccomp{Unconfined: true, Profile: "unconfined"}
	case "":
		if c.Seccomp, err = BuildSeccompCached(o.SeccompCache, "default", nil, caps.Bounding); err != nil {
			return nil, err
		}
	default:
		if c.Seccomp, err = BuildSeccompCached(o.SeccompCache, sopts.Seccomp, body, caps.Bounding); err != nil {
			return nil, err
		}
	}
	c.MaskedPaths = MaskedPaths()
	c.ReadonlyPaths = ReadonlyPaths()
	rules := DefaultDeviceRules()
	// --device rules go after moby's defaults and before runc's, as in
	// docker; for the allow list the order does not matter.
	moby, runc := rules[:8], rules[8:]
	rules = append([]*DeviceRule{}, moby...)
	for _, d := range devs {
		r := d.Rule
		rules = append(rules, &r)
	}
	c.DeviceRules = append(rules, runc...)
	return c, nil
}
