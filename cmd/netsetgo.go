package cmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/network/netsetgo"
)

// Netsetgo is `mydocker netsetgo ...`, and mydocker called as `netsetgo`
// (main.go maps the program name): github.com/teddyking/netsetgo, flag for
// flag. Its flags are parsed here with Go's flag package, as the original
// did, so `-flag value`, `-flag=value`, `--flag value` and `--flag=value`
// all work. Like the original it prints "ERROR - <reason>" on stdout and
// exits 1 on any failure, 0 on success; the narration goes to stderr.
var Netsetgo = &cli.Command{
	Name:            "netsetgo",
	Usage:           "wire an existing process's network namespace into a bridge (netsetgo-compatible, plus NAT, cleanup, concurrency)",
	ArgsUsage:       "-pid PID [-bridgeName brg0] [-bridgeAddress 10.10.10.1/24] [-vethNamePrefix veth] [-containerAddress 10.10.10.2/24] [-nat=false] [-cleanup] [-watch]",
	SkipFlagParsing: true,
	Action: func(c *cli.Context) error {
		err := runNetsetgo(c, c.Args().Slice())
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			fmt.Printf("ERROR - %s\n", err)
			return cli.Exit("", 1)
		}
		return nil
	},
}

func runNetsetgo(c *cli.Context, args []string) error {
	fs := flag.NewFlagSet("netsetgo", flag.ContinueOnError)
	var o netsetgo.Options
	var cleanup, watch bool
	fs.StringVar(&o.BridgeName, "bridgeName", netsetgo.DefaultBridge, "Name to assign to bridge device")
	fs.StringVar(&o.BridgeAddress, "bridgeAddress", netsetgo.DefaultBridgeAddress, "Address to assign to bridge device (CIDR notation)")
	fs.StringVar(&o.VethNamePrefix, "vethNamePrefix", netsetgo.DefaultVethPrefix, "Name prefix for veth devices")
	fs.StringVar(&o.ContainerAddress, "containerAddress", netsetgo.DefaultContainerAddress, "Address to assign to the container (CIDR notation)")
	fs.IntVar(&o.Pid, "pid", 0, "pid of a process in the container's network namespace")
	fs.BoolVar(&o.NAT, "nat", true, "masquerade the bridge's subnet and allow forwarding (in mydocker's iptables chains)")
	fs.BoolVar(&cleanup, "cleanup", false, "remove what an earlier call made for -pid (with -bridgeName: the bridge too, when nothing else is on it)")
	fs.BoolVar(&watch, "watch", false, "stay until the process exits, then clean up")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fmt.Fprintf(os.Stderr, "Usage: netsetgo %s\n", c.Command.ArgsUsage)
			fs.PrintDefaults()
		}
		return err
	}
	if o.Pid == 0 {
		return errors.New("netsetgo needs a pid")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if os.Geteuid() != 0 {
		return errors.New("netsetgo needs root: run it with sudo")
	}
	// Only a -bridgeName given on the command line lets cleanup remove a bridge.
	removeBridge := ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "bridgeName" {
			removeBridge = o.BridgeName
		}
	})
	// The boot check, as every verb (a wiring recorded before a reboot
	// names a pid that is another process now).
	rt, err := runtime(c)
	if err != nil {
		return err
	}
	// --root, or MYDOCKER_ROOT / the default when called as netsetgo.
	s := netsetgo.New(rt.Paths.Root, rt.K)
	if cleanup {
		if watch {
			return errors.New("-cleanup and -watch do not go together")
		}
		return s.Cleanup(o.Pid, removeBridge)
	}
	w, err := s.Wire(o)
	if err != nil {
		return err
	}
	if host, _ := netsetgo.Pair(o.VethNamePrefix, 0); w.HostVeth != host {
		fmt.Printf("%s is taken: using %s (on %s) and %s (in pid %d)\n", host, w.HostVeth, w.Bridge, w.PeerVeth, w.Pid)
	}
	if watch {
		return s.Watch(w, removeBridge)
	}
	return nil
}
