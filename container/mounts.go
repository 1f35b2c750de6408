package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	volumes "github.com/mydocker/mydocker/container/volume"
)

// The mounts a container is asked for, as docker reads them: -v and
// --mount, parsed and checked before anything exists (a named volume is
// made later, by ensureVolumes, under the volume store's lock).

// Mount types.
const (
	MountBind   = "bind"
	MountVolume = "volume"
	MountTmpfs  = "tmpfs"
)

// ParseVolume reads -v as docker does on Linux: CONTAINER (an anonymous
// volume), HOST:CONTAINER (HOST absolute, or ./ and ../ from the caller's
// directory: a bind), NAME:CONTAINER (a named
// volume, made on first use), each with an optional :MODE (ro, rw, nocopy,
// and z or Z, which only mean something under SELinux: accepted, ignored).
func ParseVolume(spec string) (Mount, error) {
	parts := strings.Split(spec, ":")
	m := Mount{Type: MountVolume}
	bad := func(format string, a ...any) (Mount, error) {
		return m, fmt.Errorf("invalid volume %q: %s", spec, fmt.Sprintf(format, a...))
	}
	switch len(parts) {
	case 1:
		m.Destination, m.Anonymous = parts[0], true
	case 2:
		if _, err := volumeModes(parts[1]); err == nil && !strings.HasPrefix(parts[1], "/") {
			return bad("a mode needs a source: HOST:CONTAINER:%s or NAME:CONTAINER:%s", parts[1], parts[1])
		}
		m.Source, m.Destination = parts[0], parts[1]
	case 3:
		m.Source, m.Destination, m.Mode = parts[0], parts[1], parts[2]
	default:
		return bad("want [HOST:|NAME:]CONTAINER[:MODE]")
	}
	modes, err := volumeModes(m.Mode)
	if err != nil {
		return bad("%v", err)
	}
	m.ReadOnly, m.NoCopy = modes["ro"], modes["nocopy"]
	if m.Source == "." || strings.HasPrefix(m.Source, "./") || strings.HasPrefix(m.Source, "../") {
		// From the caller's directory, as docker ≥ 23 takes it.
		abs, err := filepath.Abs(m.Source)
		if err != nil {
			return bad("%v", err)
		}
		m.Source = abs
	}
	switch {
	case m.Anonymous:
	case filepath.IsAbs(m.Source):
		m.Type, m.Source = MountBind, filepath.Clean(m.Source)
		if m.NoCopy {
			return bad("nocopy is for a volume, not a bind of a host path")
		}
	case m.Source == "":
		return bad("empty source")
	default:
		m.Name, m.Source = m.Source, ""
		if err := volumes.ValidName(m.Name); err != nil {
			return bad("host path %q must be absolute, or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)", m.Name)
		}
	}
	return m, checkDestination(&m, func(format string, a ...any) error { _, err := bad(format, a...); return err })
}

// volumeModes reads -v's MODE: a comma-separated list.
func volumeModes(mode string) (map[string]bool, error) {
	out := map[string]bool{}
	if mode == "" {
		return out, nil
	}
	for _, o := range strings.Split(mode, ",") {
		switch o {
		case "ro", "rw", "nocopy", "z", "Z":
			out[o] = true
		default:
			return nil, fmt.Errorf("unknown mode %q (ro, rw, nocopy, z, Z)", o)
		}
	}
	if out["ro"] && out["rw"] {
		return nil, fmt.Errorf("mode %q is both ro and rw", mode)
	}
	return out, nil
}

// checkDestination checks and cleans the path in the container.
func checkDestination(m *Mount, bad func(string, ...any) error) error {
	if !filepath.IsAbs(m.Destination) {
		return bad("container path %q must be absolute", m.Destination)
	}
	m.Destination = filepath.Clean(m.Destination)
	if m.Destination == "/" {
		return bad("cannot mount over the container's root")
	}
	return nil
}

// ParseMount reads --mount as docker does: comma-separated KEY=VALUE
// fields (type, source|src, target|dst|destination, readonly|ro,
// volume-nocopy, volume-driver, tmpfs-size, tmpfs-mode, bind-propagation),
// type volume when none is given, its errors in docker's words.
func ParseMount(spec string) (Mount, error) {
	m := Mount{Type: MountVolume}
	flagErr := func(format string, a ...any) (Mount, error) {
		return m, fmt.Errorf("invalid argument %q for \"--mount\" flag: %s", spec, fmt.Sprintf(format, a...))
	}
	var size, mode string
	family := map[string]bool{}
	for _, field := range strings.Split(spec, ",") {
		key, val, hasVal := strings.Cut(field, "=")
		if !hasVal {
			switch key {
			case "readonly", "ro":
				m.ReadOnly = true
				continue
			case "volume-nocopy":
				m.NoCopy, family["volume"] = true, true
				continue
			}
			return flagErr("invalid field '%s' must be a key=value pair", field)
		}
		var err error
		switch key {
		case "type":
			m.Type = strings.ToLower(val)
		case "source", "src":
			m.Source = val
		case "target", "dst", "destination":
			m.Destination = val
		case "readonly", "ro":
			if m.ReadOnly, err = strconv.ParseBool(val); err != nil {
				return flagErr("invalid value for %s: %s", key, val)
			}
		case "volume-nocopy":
			if m.NoCopy, err = strconv.ParseBool(val); err != nil {
				return flagErr("invalid value for volume-nocopy: %s", val)
			}
			family["volume"] = true
		case "volume-driver":
			if val != volumes.Driver {
				return flagErr("volume driver %q is not known: only %q", val, volumes.Driver)
			}
			family["volume"] = true
		case "tmpfs-size":
			n, err := ramInBytes(val)
			if err != nil {
				return flagErr("invalid value for %s: %s", key, val)
			}
			size, family["tmpfs"] = "size="+strconv.FormatInt(n, 10), true
		case "tmpfs-mode":
			if _, err := strconv.ParseUint(val, 8, 32); err != nil {
				return flagErr("invalid value for %s: %s", key, val)
			}
			mode, family["tmpfs"] = "mode="+val, true
		case "bind-propagation":
			// mydocker makes every mount private to the container (a
			// change could propagate to the host): only that is taken.
			if val != "private" && val != "rprivate" {
				return flagErr("bind-propagation %q is not supported: mounts are rprivate", val)
			}
			family["bind"] = true
		default:
			return flagErr("unexpected key '%s' in '%s'", key, field)
		}
	}
	if m.Type == "" {
		return flagErr("type is required")
	}
	if m.Destination == "" {
		return flagErr("target is required")
	}
	for f := range family {
		if f != m.Type {
			return flagErr("cannot mix '%s-*' options with mount type '%s'", f, m.Type)
		}
	}
	cfgErr := func(format string, a ...any) error {
		return fmt.Errorf("invalid mount config for type %q: %s", m.Type, fmt.Sprintf(format, a...))
	}
	switch m.Type {
	case MountBind:
		if m.Source == "" {
			return m, cfgErr("field Source must not be empty")
		}
		abs, err := filepath.Abs(m.Source) // docker takes ./dir from the caller's directory
		if err != nil {
			return m, cfgErr("%v", err)
		}
		m.Source = abs
	case MountVolume:
		if m.Source == "" {
			m.Anonymous = true
		} else if err := volumes.ValidName(m.Source); err != nil {
			return m, cfgErr("invalid volume name %q: [a-zA-Z0-9][a-zA-Z0-9_.-]+", m.Source)
		} else {
			m.Name, m.Source = m.Source, ""
		}
	case MountTmpfs:
		if m.Source != "" {
			return m, cfgErr("field Source must not be specified")
		}
		var opts []string
		for _, o := range []string{size, mode} {
			if o != "" {
				opts = append(opts, o)
			}
		}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		m.TmpfsOptions = strings.Join(opts, ",")
	default:
		return m, cfgErr("mount type unknown")
	}
	if !filepath.IsAbs(m.Destination) {
		return m, cfgErr("invalid mount path: '%s' mount path must be absolute", m.Destination)
	}
	return m, checkDestination(&m, func(format string, a ...any) error {
		return cfgErr("invalid mount path: %s", fmt.Sprintf(format, a...))
	})
}

// ramInBytes reads a size as docker's tmpfs-size does (go-units
// RAMInBytes): a number with an optional b, k, m, g or t (binary units).
func ramInBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgt", t[n-1]); i >= 0 {
			mult, t = int64(1)<<(10*(i+1)), t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(f * float64(mult)), nil
}

// parseMounts reads run's -v and --mount (and checks --tmpfs's paths
// against them): two mounts at one path are refused, as docker's
// "Duplicate mount point"; a --mount bind's source must exist (-v makes
// a missing one, --mount does not, as docker).
func parseMounts(o RunOptions) ([]Mount, error) {
	var out []Mount
	seen := map[string]bool{}
	add := func(m Mount) error {
		if seen[m.Destination] {
			return fmt.Errorf("duplicate mount point: %s", m.Destination)
		}
		seen[m.Destination] = true
		out = append(out, m)
		return nil
	}
	for _, v := range o.Volumes {
		m, err := ParseVolume(v)
		if err == nil {
			err = add(m)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, v := range o.Mounts {
		m, err := ParseMount(v)
		if err == nil && m.Type == MountBind {
			if _, serr := os.Stat(m.Source); serr != nil {
				err = fmt.Errorf("invalid mount config for type \"bind\": bind source path does not exist: %s", m.Source)
			}
		}
		if err == nil {
			err = add(m)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, t := range o.Tmpfs {
		path, _, _ := strings.Cut(t, ":")
		if seen[filepath.Clean(path)] {
			return nil, fmt.Errorf("duplicate mount point: %s", filepath.Clean(path))
		}
	}
	return out, nil
}
