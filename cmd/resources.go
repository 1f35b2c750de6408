package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/cgroups"
)

// resourceFlags are run's resource limits, named as docker names them. They
// are read as strings so that cgroups.Parse, not the flag parser, words
// every refusal ("invalid --memory ...: minimum memory limit allowed is 6MB").
var resourceFlags = []cli.Flag{
	&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (b, k, m or g suffix, e.g. 64m; at least 6m)"},
	&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit: a size, or -1 for unlimited swap (default: twice --memory)"},
	&cli.StringFlag{Name: "cpu-shares", Usage: "relative CPU weight (2-262144, default 1024)"},
	&cli.StringFlag{Name: "cpus", Usage: "number of CPUs the container may use, e.g. 0.5"},
	&cli.StringFlag{Name: "cpu-period", Usage: "CFS period in microseconds (1000-1000000)"},
	&cli.StringFlag{Name: "cpu-quota", Usage: "CFS quota in microseconds per period (at least 1000)"},
	&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs the container may run on, e.g. 0-1,3"},
	&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes the container may allocate on, e.g. 0"},
	&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of tasks (-1 for unlimited)"},
}

// resources checks the resource flags of c: bad values are a usage error,
// reported before anything is created.
func resources(c *cli.Context) (*cgroups.Resources, error) {
	r, err := cgroups.Parse(limitFlags(c))
	if err != nil {
		return nil, Usagef("%v", err)
	}
	return r, nil
}

// limitFlags are the resource flags of c as typed ("" = not given).
func limitFlags(c *cli.Context) cgroups.Flags {
	return cgroups.Flags{
		Memory:     c.String("memory"),
		MemorySwap: c.String("memory-swap"),
		CPUShares:  c.String("cpu-shares"),
		CPUs:       c.String("cpus"),
		CPUPeriod:  c.String("cpu-period"),
		CPUQuota:   c.String("cpu-quota"),
		CpusetCpus: c.String("cpuset-cpus"),
		CpusetMems: c.String("cpuset-mems"),
		PidsLimit:  c.String("pids-limit"),
	}
}
