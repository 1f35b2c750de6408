package test

import (
	"strings"
	"testing"
)

// run --add-host and --network-alias, as docker's: lines of /etc/hosts,
// host-gateway the network's gateway, an alias a name of the container in
// the /etc/hosts of the others on its network.
func TestAddHostAndNetworkAlias(t *testing.T) {
	e := newEnv(t)
	e.ok("-q", "network", "create", "an", "--subnet", "192.168.65.0/24")
	e.ok("-q", "run", "-d", "--name", "db", "--net", "an", "--network-alias", "database", "--network-alias", "pg", "busybox", "sleep", "100")
	e.ok("-q", "run", "-d", "--name", "app", "--net", "an", "--add-host", "gw:host-gateway", "--add-host", "extra.example=10.1.2.3", "busybox", "sleep", "100")
	hosts := e.ok("-q", "exec", "app", "cat", "/etc/hosts")
	for _, want := range []string{"192.168.65.1\tgw\n", "10.1.2.3\textra.example\n", " db database pg\n"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("app's /etc/hosts lacks %q:\n%s", want, hosts)
		}
	}
	if out := e.ok("-q", "exec", "app", "ping", "-c", "1", "-W", "2", "database"); !strings.Contains(out, "1 packets received") {
		t.Errorf("ping the alias: %s", out)
	}
	if out := e.ok("inspect", "-f", `{{json .HostConfig.ExtraHosts}} {{json .NetworkSettings.Networks.an.Aliases}}`, "app"); out != `["gw:host-gateway","extra.example=10.1.2.3"] null`+"\n" {
		t.Errorf("inspect app: %q", out)
	}
	if out := e.ok("inspect", "-f", `{{json .NetworkSettings.Networks.an.Aliases}}`, "db"); out != `["database","pg"]`+"\n" {
		t.Errorf("inspect db: %q", out)
	}
	// A container joining later sees the aliases too; app's own extra lines stay.
	e.ok("-q", "run", "-d", "--name", "late", "--net", "an", "busybox", "sleep", "100")
	if hosts := e.ok("-q", "exec", "late", "cat", "/etc/hosts"); !strings.Contains(hosts, "db database pg\n") || strings.Contains(hosts, "extra.example") {
		t.Errorf("late's /etc/hosts:\n%s", hosts)
	}
	if hosts := e.ok("-q", "exec", "app", "cat", "/etc/hosts"); !strings.Contains(hosts, " late\n") || !strings.Contains(hosts, "10.1.2.3\textra.example\n") {
		t.Errorf("app's /etc/hosts after late joined:\n%s", hosts)
	}
	// network connect --alias: a name on that network only.
	e.ok("-q", "network", "create", "an2", "--subnet", "192.168.67.0/24")
	e.ok("-q", "run", "-d", "--name", "other", "--net", "an2", "busybox", "sleep", "100")
	e.ok("-q", "network", "connect", "--alias", "cache", "an2", "late")
	if hosts := e.ok("-q", "exec", "other", "cat", "/etc/hosts"); !strings.Contains(hosts, " late cache\n") {
		t.Errorf("other's /etc/hosts after network connect --alias cache an2 late:\n%s", hosts)
	}
	if out := e.ok("inspect", "-f", `{{json .NetworkSettings.Networks.an2.Aliases}}`, "late"); out != `["cache"]`+"\n" {
		t.Errorf("inspect late: %q", out)
	}
	e.fails("only supported for user-defined networks", "network", "connect", "--alias", "x", "bridge", "late")
	e.ok("-q", "rm", "-f", "other")
	e.ok("-q", "network", "disconnect", "an2", "late")
	e.ok("-q", "network", "rm", "an2")
	// --net none: only the extra lines; host-gateway has no gateway there.
	if out := e.ok("-q", "run", "--rm", "--net", "none", "--add-host", "a.b:10.9.8.7", "busybox", "cat", "/etc/hosts"); !strings.HasSuffix(out, "10.9.8.7\ta.b\n") {
		t.Errorf("--net none --add-host:\n%s", out)
	}
	e.fails("has no gateway", "run", "--rm", "--net", "none", "--add-host", "h:host-gateway", "busybox", "true")
	e.fails("invalid --add-host", "run", "--rm", "--net", "none", "--add-host", "nohost", "busybox", "true")
	e.fails("not an IP address", "run", "--rm", "--net", "none", "--add-host", "h:1.2.3", "busybox", "true")
	e.fails("only supported for user-defined networks", "run", "--rm", "--network-alias", "x", "busybox", "true")
	if out := e.ok("ps", "-a", "-q"); len(strings.Fields(out)) != 3 {
		t.Errorf("a refused run left a container: %q", out)
	}
	e.ok("-q", "rm", "-f", "db", "app", "late")
	e.ok("-q", "network", "rm", "an")
}
