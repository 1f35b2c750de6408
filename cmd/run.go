package cmd

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/phases"
	"github.com/mydocker/mydocker/network"
)

// Run is `mydocker run`.
var Run = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container",
	ArgsUsage: "IMAGE [COMMAND [ARG...]]",
	// -h is --hostname, as docker's; --help stays.
	HideHelp: true,
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "help", Usage: "show help"},
		// With -d, -i keeps the container's stdin open for attach.
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep stdin open"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-terminal"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background and print the container id"},
		&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
		&cli.StringFlag{Name: "name", Usage: "container name"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable: KEY=VAL, or KEY to take the caller's"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a file: KEY=VAL or KEY per line, # comments"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "a label: KEY=VALUE or KEY (over the image's)"},
		&cli.StringSliceFlag{Name: "label-file", Usage: "read labels from a file: KEY=VALUE or KEY per line, # comments"},
		&cli.StringSliceFlag{Name: "expose", Usage: "expose a port or a range (80, 53/udp, 8000-8010): recorded, and published by -P"},
		&cli.StringFlag{Name: "stop-signal", Usage: "the signal stop sends first (default: the image's, else SIGTERM)"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "seconds stop waits before SIGKILL (default 10; -1: for ever)"},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "a volume: HOST:CONTAINER (a bind), NAME:CONTAINER (a named volume), CONTAINER (an anonymous one), each [:ro|rw|nocopy]"},
		&cli.StringSliceFlag{Name: "mount", Usage: "a mount: type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy][,tmpfs-size=][,tmpfs-mode=]"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container hostname (default: the short id)"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory of the command"},
		&cli.StringFlag{Name: "entrypoint", Usage: "replace the image's entrypoint (and drop its Cmd unless arguments are given)"},
		&cli.StringFlag{Name: "net", Aliases: []string{"network"}, Value: network.DefaultNetwork, Usage: "network: bridge (the default network), none, host, or a network's name"},
		&cli.StringFlag{Name: "ip", Usage: "the container's IPv4 address on its network"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a port: [[hostIP:][hostPort]:]containerPort[/tcp|udp] (no host port: a free one)"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish every port the image exposes, each on a free host port"},
		&cli.StringSliceFlag{Name: "dns", Usage: "a nameserver for the container's resolv.conf"},
		&cli.StringFlag{Name: "log-driver", Usage: "json-file (the default, which logs reads) or none (nothing kept)"},
		&cli.StringSliceFlag{Name: "log-opt", Usage: "cap the container's log, as docker's json-file: max-size=10m, max-file=3"},
		&cli.StringSliceFlag{Name: "add-host", Usage: "a line of the container's /etc/hosts: NAME:IP (IP host-gateway: its network's gateway, the host)"},
		&cli.StringSliceFlag{Name: "network-alias", Usage: "another name of the container on its user-defined network (in the /etc/hosts of the containers there)"},
		&cli.StringFlag{Name: "restart", Value: "no", Usage: "restart policy when the command exits: no, on-failure[:max-retries], always, unless-stopped (carried out by the shim)"},
		&cli.BoolFlag{Name: "init", Usage: "run a reaper (mydocker-init) as pid 1: it forwards signals to the command and reaps zombies"},
		dryRunFlag(),
	}, append(securityFlags, resourceFlags...)...),
	Action: func(c *cli.Context) error {
		if c.Bool("help") {
			return cli.ShowSubcommandHelp(c)
		}
		if err := minArgs(c, 1); err != nil {
			return err
		}
		phases.Mark("flags")
		o, err := runOptions(c) // bad limits are refused before anything exists
		if err != nil {
			return err
		}
		rt, err := networkRuntime(c) // with --dry-run applied
		if err != nil {
			return err
		}
		id, code, err := rt.Run(o, os.Stdin, os.Stdout, os.Stderr)
		if err != nil {
			return err
		}
		if c.Bool("dry-run") {
			kernel.Report(rt.K, "container %s was not created", container.ShortID(id))
			return nil
		}
		if o.Detach && id != "" {
			fmt.Println(id)
			return nil
		}
		if code != 0 {
			return cli.Exit("", code)
		}
		return nil
	},
}

// runOptions reads run's (and create's) flags and arguments.
func runOptions(c *cli.Context) (container.RunOptions, error) {
	res, err := resources(c)
	if err != nil {
		return container.RunOptions{}, err
	}
	o := container.RunOptions{
		Image: c.Args().First(), Cmd: c.Args().Tail(), Name: c.String("name"),
		Env: c.StringSlice("env"), EnvFiles: c.StringSlice("env-file"), Labels: c.StringSlice("label"), LabelFiles: c.StringSlice("label-file"),
		StopSignal: c.String("stop-signal"), Volumes: c.StringSlice("volume"), Mounts: c.StringSlice("mount"),
		Hostname: c.String("hostname"), WorkDir: c.String("workdir"),
		Entrypoint: c.String("entrypoint"), EntrypointSet: c.IsSet("entrypoint"),
		Interactive: c.Bool("interactive"), Tty: c.Bool("tty"), Detach: c.Bool("detach"),
		AutoRemove: c.Bool("rm"), Network: c.String("net"),
		Resources: res,
		IP:        c.String("ip"), Publish: c.StringSlice("publish"), PublishAll: c.Bool("publish-all"), Expose: c.StringSlice("expose"), DNS: c.StringSlice("dns"),
		AddHosts: c.StringSlice("add-host"), Aliases: c.StringSlice("network-alias"),
		CapAdd: c.StringSlice("cap-add"), CapDrop: c.StringSlice("cap-drop"), Privileged: c.Bool("privileged"),
		SecurityOpt: c.StringSlice("security-opt"), User: c.String("user"), Devices: c.StringSlice("device"),
		ReadOnly: c.Bool("read-only"), Tmpfs: c.StringSlice("tmpfs"),
		LogDriver: c.String("log-driver"), LogOpts: c.StringSlice("log-opt"),
		Restart: c.String("restart"), Init: c.Bool("init"),
	}
	if c.IsSet("stop-timeout") {
		t := c.Int("stop-timeout")
		o.StopTimeout = &t
	}
	return o, nil
}

// securityFlags are docker's flags for what a container may do (see
// container/security for the defaults, which are docker's).
var securityFlags = []cli.Flag{
	&cli.StringSliceFlag{Name: "cap-add", Usage: "add a capability (CHOWN or CAP_CHOWN, any case; ALL)"},
	&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a capability (ALL: every one not added)"},
	&cli.BoolFlag{Name: "privileged", Usage: "every capability, no seccomp, no masked paths, every device, /sys and /proc/sys writable"},
	&cli.StringSliceFlag{Name: "security-opt", Usage: "no-new-privileges[=true], seccomp=unconfined|PROFILE.json"},
	&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as uid[:gid] or name[:group] of the image"},
	&cli.StringSliceFlag{Name: "device", Usage: "add a host device: HOST[:CONTAINER][:rwm]"},
	&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem read-only"},
	&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs: PATH[:OPTIONS] (default rw,noexec,nosuid,nodev,size=65536k)"},
}
