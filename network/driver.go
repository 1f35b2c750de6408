package network

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Driver builds a network in the kernel and plugs endpoints into it. The
// Manager owns state (files, IPAM, rollback); a driver only does kernel work,
// through the kernel seam, and its Delete/Disconnect are idempotent.
type Driver interface {
	Name() string
	// Create builds the network (device, gateway address, firewall rules).
	Create(nw *Network) error
	// Delete removes everything Create built; missing pieces are skipped.
	Delete(nw *Network) error
	// Connect wires the endpoint into the network namespace of pid.
	Connect(nw *Network, ep *Endpoint, pid int) error
	// Disconnect removes the endpoint's kernel state; it works when the
	// container's namespace is already gone.
	Disconnect(nw *Network, ep *Endpoint) error
}

// DriverFactory makes a driver that works through the kernel seam k, for
// the networks of the state root root (whose records say what exists).
type DriverFactory func(k kernel.Kernel, root string) Driver

var drivers = map[string]DriverFactory{}

// RegisterDriver adds a driver to the registry (at init time).
func RegisterDriver(name string, f DriverFactory) { drivers[name] = f }

// DriverNames lists the registered drivers, sorted.
func DriverNames() []string {
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func getDriver(name string, k kernel.Kernel, root string) (Driver, error) {
	f, ok := drivers[name]
	if !ok {
		return nil, fmt.Errorf("unknown network driver %q (known: %s)", name, strings.Join(DriverNames(), ", "))
	}
	return f(k, root), nil
}
