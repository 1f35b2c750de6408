package network

import (
	"strings"
	"testing"
)

func TestMermaidDrawsTheRecordedState(t *testing.T) {
	nw := &Network{
		Name: "web", Driver: "bridge", Subnet: "10.20.0.0/24", Gateway: "10.20.0.1", Bridge: "web",
		Containers: map[string]*Endpoint{
			"ffff0000aaaa": {ID: "ffff0000aaaa", Name: "b", IP: "10.20.0.10", MAC: "02:42:0a:14:00:0a", Veth: "vethffff000", Ifname: "eth0"},
			"0000ffffbbbb": {ID: "0000ffffbbbb", Name: "a", IP: "10.20.0.2", MAC: "02:42:0a:14:00:02", Veth: "veth0000fff", Ifname: "eth1",
				Ports: []PortMapping{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, {HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Proto: "udp"}}},
		},
	}
	got := Mermaid(nw)
	want := `flowchart LR
  outside(("outside world"))
  subgraph host["host"]
    bridge["bridge web<br/>gateway 10.20.0.1/24<br/>subnet 10.20.0.0/24"]
    masq{{"MASQUERADE<br/>-s 10.20.0.0/24 ! -o web"}}
    veth0["veth0000fff"]
    port0_0[/"0.0.0.0:8080/tcp"/]
    port0_1[/"127.0.0.1:5353/udp"/]
    veth1["vethffff000"]
  end
  subgraph c0["container a 0000ffffbbbb"]
    if0["eth1<br/>10.20.0.2/24<br/>02:42:0a:14:00:02"]
  end
  subgraph c1["container b ffff0000aaaa"]
    if1["eth0<br/>10.20.0.10/24<br/>02:42:0a:14:00:0a"]
  end
  bridge -->|"leaves the subnet"| masq -->|"source rewritten to the host's address"| outside
  bridge --- veth0 ===|"veth pair"| if0
  outside -->|"DNAT"| port0_0 -->|"10.20.0.2:80"| if0
  outside -->|"DNAT"| port0_1 -->|"10.20.0.2:53"| if0
  bridge --- veth1 ===|"veth pair"| if1
`
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestMermaidEmptyNetworkAndEscaping(t *testing.T) {
	got := Mermaid(&Network{Name: "n", Subnet: "10.1.0.0/16", Gateway: "10.1.0.1", Bridge: `a"b<c>`})
	if strings.Contains(got, "veth") || strings.Contains(got, "subgraph c") {
		t.Fatalf("an empty network has no endpoint:\n%s", got)
	}
	if !strings.Contains(got, `bridge a#quot;b#lt;c#gt;<br/>gateway 10.1.0.1/16`) {
		t.Fatalf("label not escaped:\n%s", got)
	}
}
