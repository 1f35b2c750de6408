package network

import (
	"testing"
	"time"
)

func TestDockerShape(t *testing.T) {
	n := &Network{Name: "n1", IpRange: "10.0.0.1/24", Driver: "bridge", Subnet: "10.0.0.0/24", Gateway: "10.0.0.1", Bridge: "n1",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Containers: map[string]*Endpoint{"c1": {ID: "c1", Name: "web", IP: "10.0.0.2", MAC: "02:42:0a:00:00:02"}}}
	d := n.Docker()
	if len(d.Id) != 64 || d.Id != n.ID() || d.Scope != "local" || d.IPAM.Driver != "default" ||
		len(d.IPAM.Config) != 1 || d.IPAM.Config[0].Subnet != "10.0.0.0/24" || d.IPAM.Config[0].Gateway != "10.0.0.1" {
		t.Errorf("docker shape: %+v", d)
	}
	if c := d.Containers["c1"]; c.Name != "web" || c.IPv4Address != "10.0.0.2/24" || c.MacAddress != "02:42:0a:00:00:02" || c.IP != "10.0.0.2" {
		t.Errorf("docker shape of an endpoint: %+v", c)
	}
	again := *n
	again.Created = again.Created.Add(time.Second)
	if again.ID() == n.ID() {
		t.Error("a network made again under the same name has the same id")
	}
	if r := n.ListRow(false); r.ID != n.ID()[:12] || r.Containers != "1" || r.IPv6 != "false" {
		t.Errorf("ls row: %+v", r)
	}
}
