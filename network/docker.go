package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Docker's shape of a network, for `network inspect` and `network ls
// --format`: docker's field names (.Id, .Scope, .IPAM.Config, .Containers
// with IPv4Address) so that its one-liners work, with mydocker's own
// fields (IpRange, Subnet, Gateway, Bridge, ...) kept beside them.

// DockerNetwork is `network inspect`'s JSON for one network.
type DockerNetwork struct {
	Name       string
	Id         string //nolint:revive // docker's JSON name
	Created    time.Time
	Scope      string
	Driver     string
	EnableIPv6 bool
	IPAM       DockerIPAM
	Internal   bool
	Attachable bool
	Ingress    bool
	ConfigFrom struct{ Network string }
	ConfigOnly bool
	Containers map[string]DockerEndpoint // by container id
	Options    map[string]string
	Labels     map[string]string
	*Network   // mydocker's fields; docker's above win where the names meet
}

// DockerIPAM is docker's .IPAM: the default driver, one config per subnet.
type DockerIPAM struct {
	Driver  string
	Options map[string]string
	Config  []DockerIPAMConfig
}

// DockerIPAMConfig is one subnet of .IPAM.Config.
type DockerIPAMConfig struct {
	Subnet  string
	IPRange string `json:",omitempty"`
	Gateway string
}

// DockerEndpoint is one container of .Containers, docker's fields first,
// then mydocker's record of the endpoint (IP, MAC, Veth, Ifname, ...).
type DockerEndpoint struct {
	Name        string
	EndpointID  string
	MacAddress  string
	IPv4Address string // "172.18.0.2/16"
	IPv6Address string
	*Endpoint
}

// ID is the network's id as docker shows one: 64 hex digits, derived from
// its name and creation time (stable for the network's life, new for a
// network made again under the same name); nothing stores it.
func (n *Network) ID() string {
	sum := sha256.Sum256([]byte("network\x00" + n.Name + "\x00" + n.Created.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:])
}

// Docker is n in docker's shape.
func (n *Network) Docker() DockerNetwork {
	prefix := ""
	if _, sub, err := net.ParseCIDR(n.Subnet); err == nil {
		ones, _ := sub.Mask.Size()
		prefix = "/" + strconv.Itoa(ones)
	}
	d := DockerNetwork{
		Name: n.Name, Id: n.ID(), Created: n.Created, Scope: "local", Driver: n.Driver,
		IPAM: DockerIPAM{Driver: "default", Options: map[string]string{},
			Config: []DockerIPAMConfig{{Subnet: n.Subnet, IPRange: n.AllocRange, Gateway: n.Gateway}}},
		Containers: map[string]DockerEndpoint{},
		Options:    map[string]string{"com.docker.network.bridge.name": n.Bridge},
		Labels:     map[string]string{},
		Network:    n,
	}
	if n.Bridge == "" {
		d.Options = map[string]string{}
	}
	if n.Overlay != nil {
		// As docker's overlay on a cluster store: global, the whole subnet,
		// this host's block as the range its containers come from.
		d.Scope = "global"
		d.IPAM.Config[0].Subnet = n.Overlay.Subnet
		if n.Subnet != n.Overlay.Subnet {
			d.IPAM.Config[0].IPRange = n.Subnet
		}
		d.Options = map[string]string{"com.docker.network.driver.overlay.vxlanid_list": strconv.Itoa(n.Overlay.VNI)}
	}
	for id, ep := range n.Containers {
		sum := sha256.Sum256([]byte("endpoint\x00" + n.Name + "\x00" + id))
		d.Containers[id] = DockerEndpoint{Name: ep.Name, EndpointID: hex.EncodeToString(sum[:]),
			MacAddress: ep.MAC, IPv4Address: ep.IP + prefix, Endpoint: ep}
	}
	return d
}

// DockerListRow is one network as `network ls --format` sees it: docker's
// fields as strings, and mydocker's IpRange, Bridge and the number of
// Containers (its default table's columns).
type DockerListRow struct {
	ID, Name, Driver, Scope, IPv6, Internal, Labels, CreatedAt string
	IpRange, Bridge, Containers                                string //nolint:revive // the seed's name
}

// DockerListHeader is the header row of a `network ls --format table`.
var DockerListHeader = DockerListRow{ID: "NETWORK ID", Name: "NAME", Driver: "DRIVER", Scope: "SCOPE",
	IPv6: "IPV6", Internal: "INTERNAL", Labels: "LABELS", CreatedAt: "CREATED AT",
	IpRange: "IPRANGE", Bridge: "BRIDGE", Containers: "CONTAINERS"}

// ListRow is n as one row of `network ls`; full keeps the whole id.
func (n *Network) ListRow(full bool) DockerListRow {
	id := n.ID()
	if !full {
		id = id[:12]
	}
	scope := "local"
	if n.Overlay != nil {
		scope = "global"
	}
	return DockerListRow{ID: id, Name: n.Name, Driver: n.Driver, Scope: scope, IPv6: "false", Internal: "false",
		CreatedAt: n.Created.Local().Format("2006-01-02 15:04:05.999999999 -0700 MST"),
		IpRange:   n.IpRange, Bridge: n.Bridge, Containers: strconv.Itoa(len(n.Containers))}
}

// Resolve is the name of the network ref names, as docker looks one up:
// its name, else its id or a unique prefix of it (what `network ls -q`
// prints). A ref that names none is returned as it is, for the verb to
// say that no such network exists.
func (m *Manager) Resolve(ref string) (string, error) {
	if ValidateName(ref) == nil {
		if _, err := os.Stat(m.netPath(ref)); err == nil {
			return ref, nil
		}
	}
	if ref == "" || strings.Trim(ref, "0123456789abcdef") != "" {
		return ref, nil
	}
	all, err := m.List()
	if err != nil {
		return "", err
	}
	var found []string
	for _, n := range all {
		if strings.HasPrefix(n.ID(), ref) {
			found = append(found, n.Name)
		}
	}
	if len(found) > 1 {
		return "", fmt.Errorf("network id %s is ambiguous (%s): give more of it", ref, strings.Join(found, ", "))
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return ref, nil
}
