package cmd

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/container"
)

// Build is this binary's version, from what `go build` recorded: the
// module's version (or "dev"), the commit and whether the tree was
// modified. `mydocker --version` prints it.
func Build() (version, commit, built string) {
	version, commit = "dev", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	// A tagged release's version; a build between tags has a
	// pseudo-version (v0.0.0-TIME-COMMIT) that says less than the commit.
	if v := bi.Main.Version; v != "" && v != "(devel)" && !strings.HasPrefix(v, "v0.0.0-") {
		version = v
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.time":
			built = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		commit += "-modified"
	}
	return version, commit, built
}

// Version is `mydocker version`, docker's client section (there is no
// server: mydocker has no daemon).
var Version = &cli.Command{
	Name:  "version",
	Usage: "show mydocker's version",
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		version, commit, built := Build()
		w := c.App.Writer
		fmt.Fprintf(w, "Client: mydocker\n Version:    %s\n Git commit: %s\n", version, commit)
		if built != "" {
			fmt.Fprintf(w, " Built:      %s\n", built)
		}
		fmt.Fprintf(w, " Go version: %s\n OS/Arch:    %s/%s\n", goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
		fmt.Fprintln(w, "\nServer: none (mydocker has no daemon: each command does its work and exits)")
		return nil
	},
}

// Info is `mydocker info`: what this host gives containers, as docker's
// info says it (kernel, cgroups, iptables, storage, roots).
var Info = &cli.Command{
	Name:  "info",
	Usage: "show what this host offers containers: kernel, cgroups, iptables, storage, directories",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template over docker's fields: '{{.CgroupVersion}}', '{{.KernelVersion}}', '{{.DockerRootDir}}', 'json'"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		tmpl, err := formatFlag(c)
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		in, err := hostInfo(rt)
		if err != nil {
			return err
		}
		if tmpl != nil {
			out, err := render(tmpl, in)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.App.Writer, out)
			return err
		}
		return in.write(c.App.Writer)
	},
}

// infoView is what info reports, under docker's field names (for
// --format); Cgroup and Controllers are mydocker's own words for the mode.
type infoView struct {
	ClientVersion, ClientCommit                              string
	Containers, ContainersRunning, ContainersStopped, Images int
	KernelVersion, OperatingSystem, Architecture             string
	NCPU                                                     int
	MemTotal                                                 int64
	CgroupDriver, CgroupVersion, Cgroup, Controllers         string
	Iptables, Driver, DockerRootDir, StateRootDir            string
	SecurityOptions                                          []string
}

func hostInfo(rt *container.Runtime) (*infoView, error) {
	list, err := rt.Store().List()
	if err != nil {
		return nil, err
	}
	in := &infoView{Containers: len(list), NCPU: goruntime.NumCPU(), CgroupDriver: "cgroupfs", Driver: "overlay",
		DockerRootDir: rt.Paths.DataRoot, StateRootDir: rt.Paths.Root, Iptables: iptablesVersion(), OperatingSystem: osName(),
		SecurityOptions: []string{"name=seccomp,profile=builtin", "name=cgroupns"}}
	for _, c := range list {
		if c.IsRunning() {
			in.ContainersRunning++
		}
	}
	in.ContainersStopped = in.Containers - in.ContainersRunning
	images, _ := rt.Images().List()
	stored, _ := rt.ImageStore().List()
	in.Images = len(images) + len(stored)
	var uts unix.Utsname
	unix.Uname(&uts)
	in.KernelVersion, in.Architecture = unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:])
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		in.MemTotal = int64(si.Totalram) * int64(si.Unit)
	}
	in.Cgroup, in.Controllers = cgroupInfo()
	in.CgroupVersion, _, _ = strings.Cut(in.Cgroup, " ")
	in.ClientVersion, in.ClientCommit, _ = Build()
	return in, nil
}

// write prints the report as text.
func (in *infoView) write(w io.Writer) error {
	fmt.Fprintf(w, "Client: mydocker %s (%s)\n", in.ClientVersion, in.ClientCommit)
	fmt.Fprintf(w, "Containers: %d\n Running: %d\n Stopped: %d\n", in.Containers, in.ContainersRunning, in.ContainersStopped)
	fmt.Fprintf(w, "Images: %d\n", in.Images)
	fmt.Fprintf(w, "Kernel Version: %s\n", in.KernelVersion)
	fmt.Fprintf(w, "Operating System: %s\n", in.OperatingSystem)
	fmt.Fprintf(w, "Architecture: %s\n", in.Architecture)
	fmt.Fprintf(w, "CPUs: %d\n", in.NCPU)
	if in.MemTotal > 0 {
		fmt.Fprintf(w, "Total Memory: %.2fGiB\n", float64(in.MemTotal)/(1<<30))
	}
	fmt.Fprintf(w, "Cgroup Driver: %s\n", in.CgroupDriver)
	fmt.Fprintf(w, "Cgroup Version: %s\n Controllers: %s\n", in.Cgroup, in.Controllers)
	fmt.Fprintf(w, "Iptables: %s\n", in.Iptables)
	fmt.Fprintln(w, "Storage Driver: overlay (the image's layers as lowerdirs, by short links as overlay2's)")
	fmt.Fprintf(w, "Root Dir: %s\nData Root Dir: %s\n", in.StateRootDir, in.DockerRootDir)
	_, err := fmt.Fprintln(w, "Security Options:\n seccomp (docker's default profile)\n capabilities (docker's 14)\n masked and read-only paths\n device allowlist")
	return err
}

// cgroupInfo says which cgroup mode the host is in (v1, hybrid: v1
// controllers with a cgroup2 beside them, or unified: v2 only) and which
// controllers mydocker can use.
func cgroupInfo() (mode, controllers string) {
	h, err := cgroups.DetectHost()
	if err != nil {
		return "unknown (" + err.Error() + ")", "none"
	}
	controllers = strings.Join(h.Controllers(), " ")
	switch h.Layout() {
	case "unified":
		return "2 (unified: cgroup2 only, at " + h.Unified + ")", controllers
	case "hybrid":
		return "1 (hybrid: v1 controllers, and a cgroup2 at " + h.Unified + " where mydocker puts its device programs)", controllers
	}
	return "1 (v1 controllers only)", controllers
}

// iptablesVersion is what `iptables --version` says: the backend is in
// parentheses (nf_tables or legacy).
func iptablesVersion() string {
	out, err := exec.Command("iptables", "--version").Output()
	if err != nil {
		return "not found (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(out))
}

// osName is /etc/os-release's PRETTY_NAME.
func osName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown"
}
