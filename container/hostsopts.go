package container

import (
	"fmt"

	"github.com/mydocker/mydocker/internal/names"
	"github.com/mydocker/mydocker/network"
)

// checkHostsOptions checks run's --add-host and --network-alias before
// anything exists, as docker does: every NAME:IP well formed, host-gateway
// only where there is a gateway, aliases only on a user-defined network
// (the default bridge has no names but its containers' own, in docker's
// too).
func checkHostsOptions(o RunOptions) error {
	for _, spec := range o.AddHosts {
		_, ip, err := network.ParseExtraHost(spec)
		if err != nil {
			return err
		}
		if ip == network.HostGateway && o.Network == NetworkNone {
			return fmt.Errorf("invalid --add-host %q: --net none has no gateway to the host", spec)
		}
	}
	return checkAliases(o.Network, o.Aliases)
}

// checkAliases checks --network-alias (run) and --alias (network connect)
// for a container on network nw.
func checkAliases(nw string, aliases []string) error {
	if len(aliases) == 0 {
		return nil
	}
	switch nw {
	case NetworkNone, NetworkHost, network.DefaultNetwork:
		return fmt.Errorf("network-scoped aliases are only supported for user-defined networks, not %q", nw)
	}
	for _, a := range aliases {
		if len(a) > 255 || !names.Valid(a, names.Alnum, "-_.") {
			return fmt.Errorf("invalid network alias %q: letters, digits, '-', '_' and '.'", a)
		}
	}
	return nil
}

// extraHostsOffNetwork resolves --add-host for a container on no network
// of mydocker's: with --net host the host is the container's own loopback.
func extraHostsOffNetwork(specs []string) []string {
	return network.ResolveExtraHosts(specs, "127.0.0.1")
}
