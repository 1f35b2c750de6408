package security

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
)

// DefaultCaps are docker's 14 capabilities (moby daemon/pkg/oci/caps
// DefaultCapabilities), in docker's order.
var DefaultCaps = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// Caps is a resolved set of capabilities, the five sets a process has. The
// names are docker's ("CAP_CHOWN"), in ascending capability number.
type Caps struct {
	Bounding    []string `json:"bounding"`
	Effective   []string `json:"effective"`
	Permitted   []string `json:"permitted"`
	Inheritable []string `json:"inheritable"`
	Ambient     []string `json:"ambient"`
}

// CapEnv is what capability resolution needs to know of the machine: the
// highest capability number of the running kernel (/proc/sys/kernel/cap_last_cap)
// and the capabilities this process may hand out: its own effective set, as
// moby's caps.initCaps takes it from containerd's cap.Current (a
// capability outside it could not be given to the container). Tests set
// both.
type CapEnv struct {
	LastCap   int
	Available uint64
}

// HostCapEnv reads the running kernel's last capability and this process's
// effective set.
func HostCapEnv() (CapEnv, error) {
	last, err := capability.LastCap()
	if err != nil {
		return CapEnv{}, fmt.Errorf("reading /proc/sys/kernel/cap_last_cap: %w", err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return CapEnv{}, err
	}
	eff, err := statusMask(string(status), "CapEff")
	if err != nil {
		return CapEnv{}, err
	}
	return CapEnv{LastCap: int(last), Available: eff}, nil
}

func statusMask(status, field string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no %s line in /proc/self/status", field)
}

// capNumbers maps "CAP_CHOWN" to its number, for every capability that
// moby/sys/capability knows (it follows linux/capability.h). Built on first
// use, not at init: every mydocker process links this package.
var capNumbers = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = int(c)
	}
	return m
})

// CapName is the docker spelling of capability number n ("CAP_CHOWN").
func CapName(n int) string {
	return "CAP_" + strings.ToUpper(capability.Cap(n).String())
}

// allCaps lists the capabilities of env in number order: docker's
// GetAllCapabilities (known to the kernel and available here).
func (env CapEnv) allCaps() []string {
	var all []string
	for n := 0; n <= env.LastCap && n < 64; n++ {
		if env.Available&(1<<n) != 0 {
			all = append(all, CapName(n))
		}
	}
	return all
}

// normalizeCaps is moby's NormalizeLegacyCapabilities: upper case, CAP_
// prefix added, "ALL" kept; a name the kernel does not know, or one not
// available here, is an error.
func (env CapEnv) normalizeCaps(caps []string) ([]string, error) {
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		n, ok := capNumbers()[c]
		if !ok || n > env.LastCap {
			return nil, fmt.Errorf("unknown capability: %q", c)
		}
		if env.Available&(1<<n) == 0 {
			return nil, fmt.Errorf("capability not supported by your kernel or not available in the current environment: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// ResolveCaps is moby's TweakCapabilities on docker's default set, followed
// by what docker does for a user: privileged gets every capability
// available; --cap-add ALL is every capability less the dropped ones;
// --cap-drop ALL is only the added ones; otherwise the defaults less the
// dropped, plus the added (an add wins over a drop of the same name, as in
// docker). The result is the bounding set; permitted and effective are the
// same for root and empty for any other user (docker's
// WithCapabilities: "a non-root user gets no capabilities", bounding stays);
// inheritable and ambient are empty.
func ResolveCaps(env CapEnv, adds, drops []string, privileged, nonRoot bool) (Caps, error) {
	var caps []string
	capDrop, err := env.normalizeCaps(drops)
	if err != nil {
		return Caps{}, err
	}
	capAdd, err := env.normalizeCaps(adds)
	if err != nil {
		return Caps{}, err
	}
	switch {
	case privileged:
		caps = env.allCaps()
	case slices.Contains(capAdd, "ALL"):
		for _, c := range env.allCaps() {
			if !slices.Contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(capDrop, "ALL"):
		caps = capAdd
	default:
		for _, c := range DefaultCaps {
			if n := capNumbers()[c]; n <= env.LastCap && env.Available&(1<<n) != 0 && !slices.Contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
		caps = append(caps, capAdd...)
	}
	bounding := sortCaps(caps)
	r := Caps{Bounding: bounding, Inheritable: []string{}, Ambient: []string{}}
	if nonRoot {
		r.Permitted, r.Effective = []string{}, []string{}
	} else {
		r.Permitted, r.Effective = slices.Clone(bounding), slices.Clone(bounding)
	}
	return r, nil
}

// sortCaps orders names by capability number and removes duplicates.
func sortCaps(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return capNumbers()[a] - capNumbers()[b] })
	return out
}

// CapMask is the bit mask of names, as /proc/self/status prints it
// (CapEff: 00000000a80425fb for docker's default).
func CapMask(names []string) (string, error) {
	m, err := capBits(names)
	return fmt.Sprintf("%016x", m), err
}

func capBits(names []string) (uint64, error) {
	var m uint64
	for _, c := range names {
		n, ok := capNumbers()[c]
		if !ok {
			return 0, fmt.Errorf("unknown capability: %q", c)
		}
		m |= 1 << n
	}
	return m, nil
}

// Setpriv is the setpriv(1) command line that sets what ApplyCaps and
// no_new_privs set, for narration (user switching is not part of it).
func Setpriv(c Caps, noNewPrivs bool) []string {
	lower := func(set []string) string {
		if len(set) == 0 {
			return "-all"
		}
		parts := []string{"-all"}
		for _, s := range set {
			parts = append(parts, "+"+strings.ToLower(strings.TrimPrefix(s, "CAP_")))
		}
		return strings.Join(parts, ",")
	}
	args := []string{"setpriv",
		"--bounding-set", lower(c.Bounding),
		"--inh-caps", lower(c.Inheritable),
		"--ambient-caps", lower(c.Ambient),
	}
	if noNewPrivs {
		args = append(args, "--no-new-privs")
	}
	return args
}

// Setpriv is the setpriv(1) command line for the whole process side of the
// Config: user and groups too (--reuid, --regid, --groups), for narration.
func (c *Config) Setpriv() []string {
	args := Setpriv(c.Caps, c.NoNewPrivileges)
	if c.User.UID == 0 && c.User.GID == 0 && len(c.User.AdditionalGids) <= 1 {
		return args
	}
	groups := make([]string, len(c.User.AdditionalGids))
	for i, g := range c.User.AdditionalGids {
		groups[i] = strconv.FormatUint(uint64(g), 10)
	}
	user := []string{"--reuid", strconv.FormatUint(uint64(c.User.UID), 10), "--regid", strconv.FormatUint(uint64(c.User.GID), 10)}
	if len(groups) > 0 {
		user = append(user, "--groups", strings.Join(groups, ","))
	} else {
		user = append(user, "--clear-groups")
	}
	return append(append(args[:1:1], user...), args[1:]...)
}
