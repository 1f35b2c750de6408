package container

import (
	"fmt"
	"os"
	"strings"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/names"
)

// Network modes handled by the runtime itself; any other value names a network.
const (
	NetworkNone = "none"
	NetworkHost = "host"
)

// RunOptions is what `mydocker run` was asked for.
type RunOptions struct {
	Image       string
	Cmd         []string
	Name        string
	Env         []string // KEY=VAL, or KEY taken from the caller's environment
	EnvFiles    []string // --env-file: files of such lines, read before -e
	Labels      []string // --label KEY[=VALUE], over the image's
	LabelFiles  []string // --label-file: files of such lines, read before --label
	Expose      []string // --expose PORT[/PROTO] or START-END[/PROTO], beside the image's
	StopSignal  string   // --stop-signal, over the image's
	StopTimeout *int     // --stop-timeout: stop's default grace period, in seconds
	Volumes     []string // -v [HOST:|NAME:]CONTAINER[:MODE] (mounts.go)
	Mounts      []string // --mount type=bind|volume|tmpfs,... (mounts.go)
	Hostname    string
	WorkDir     string
	Interactive bool
	Tty         bool
	Detach      bool
	AutoRemove  bool
	Network     string
	IP          string             // --ip, on the network
	Publish     []string           // -p [[hostIP:][hostPort]:]containerPort[/tcp|udp]
	PublishAll  bool               // -P: the image's exposed ports, each on a free host port
	DNS         []string           // --dns
	AddHosts    []string           // --add-host NAME:IP (IP may be host-gateway)
	Aliases     []string           // --network-alias: more names on its user-defined network
	Resources   *cgroups.Resources // checked by cgroups.Parse; nil = no limits

	// What the container may not do (docker's flags; see confine.go and
	// container/security): checked and resolved before anything exists.
	CapAdd      []string // --cap-add
	CapDrop     []string // --cap-drop
	Privileged  bool     // --privileged
	SecurityOpt []string // --security-opt
	User        string   // -u/--user: uid[:gid] or name[:group], looked up in the image
	Devices     []string // --device HOST[:CONTAINER][:rwm]
	ReadOnly    bool     // --read-only: the root filesystem is mounted read-only
	Tmpfs       []string // --tmpfs PATH[:OPTIONS]

	Restart string // --restart no|on-failure[:N]|always|unless-stopped
	Init    bool   // --init: a reaper as pid 1

	// Entrypoint is --entrypoint, when EntrypointSet (it may be set to ""
	// to clear the image's, as docker's).
	Entrypoint    string
	EntrypointSet bool

	LogDriver string   // --log-driver: json-file (the default) or none
	LogOpts   []string // --log-opt max-size=10m, max-file=3 (json-file's)
}

// ParseEnv turns -e values into KEY=VAL; a bare KEY takes the caller's
// value and is dropped when the caller has none (as docker does).
func ParseEnv(list []string, lookup func(string) (string, bool)) ([]string, error) {
	var out []string
	for _, e := range list {
		key, _, hasValue := strings.Cut(e, "=")
		if key == "" || strings.ContainsAny(key, " \t\n") {
			return nil, fmt.Errorf("invalid environment variable %q: want KEY=VALUE or KEY", e)
		}
		if hasValue {
			out = append(out, e)
		} else if v, ok := lookup(key); ok {
			out = append(out, key+"="+v)
		}
	}
	return out, nil
}

// ReadEnvFiles reads --env-file files as docker does, in order: a
// KEY=VALUE or KEY per line (the value as written, spaces kept), blank
// lines and # comments skipped; KEY alone is checked by ParseEnv and taken
// from the caller.
func ReadEnvFiles(paths []string) ([]string, error) { return readKVFiles("--env-file", paths) }

// ReadLabelFiles reads --label-file files: the lines of an --env-file,
// each a label (docker reads both with one parser).
func ReadLabelFiles(paths []string) ([]string, error) { return readKVFiles("--label-file", paths) }

func readKVFiles(flag string, paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		lines, err := readKVFile(flag, p)
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	return out, nil
}

func readKVFile(flag, path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimLeft(strings.TrimSuffix(line, "\r"), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if key, _, _ := strings.Cut(line, "="); strings.ContainsAny(key, " \t") || key == "" {
			return nil, fmt.Errorf("%s %s, line %d: invalid %q (KEY=VALUE or KEY, no spaces in KEY)", flag, path, i+1, key)
		}
		out = append(out, line)
	}
	return out, nil
}

// ParseLabels reads --label KEY[=VALUE] into labels (a copy; base, the
// image's, may be nil): a flag's label wins over the image's.
func ParseLabels(base map[string]string, flags []string) (map[string]string, error) {
	if len(base) == 0 && len(flags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for _, l := range flags {
		k, v, _ := strings.Cut(l, "=")
		if k == "" || strings.ContainsAny(k, " \t\n") {
			return nil, fmt.Errorf("invalid label %q: want KEY=VALUE or KEY", l)
		}
		out[k] = v
	}
	return out, nil
}

// ValidateHostname applies RFC 1123 (labels of letters, digits and '-',
// not starting or ending with '-'), within the kernel's 64-byte limit.
func ValidateHostname(h string) error {
	ok := len(h) <= 64
	for _, label := range strings.Split(h, ".") {
		ok = ok && len(label) <= 63 && names.Valid(label, names.Alnum, "-") && label[len(label)-1] != '-'
	}
	if !ok {
		return fmt.Errorf("invalid hostname %q: letters, digits, '-' and '.', at most 64 characters", h)
	}
	return nil
}

// containerEnv is the command's environment: a default PATH and HOSTNAME,
// HOME and TERM, overridden by -e.
func containerEnv(c *Config) []string {
	home := "/root"
	if c.Security != nil && c.Security.User.Home != "" {
		home = c.Security.User.Home // -u: the user's, from the image's /etc/passwd
	}
	env := []string{defaultPath, "HOSTNAME=" + c.Hostname, "HOME=" + home}
	if c.Tty {
		env = append(env, "TERM=xterm")
	}
	return mergeEnv(env, c.Env)
}

// mergeEnv returns base with over applied: a key of over replaces the same
// key of base in place, new keys are appended in order.
func mergeEnv(base, over []string) []string {
	out := append([]string(nil), base...)
	at := map[string]int{}
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		at[k] = i
	}
	for _, e := range over {
		k, _, _ := strings.Cut(e, "=")
		if i, ok := at[k]; ok {
			out[i] = e
			continue
		}
		at[k] = len(out)
		out = append(out, e)
	}
	return out
}
