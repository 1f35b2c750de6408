package test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// -p without a host port and -P publish on free host ports, as docker's:
// the first free ones of the kernel's ephemeral range, shown by inspect
// and ps, served, and given back at rm.
func TestPublishOnFreeHostPorts(t *testing.T) {
	e, www := newNetEnv(t)
	before := hostState(t)
	lo, hi := ephemeralRange(t)

	// An image that exposes 80/tcp and 53/udp.
	img := imagetest.App(t, "1")
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}, "53/udp": {}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref := imagetest.Registry(t) + "/web:v1"
	imagetest.Push(t, ref, img)
	e.must("pull", ref)
	e.must("network", "create", "--subnet", "192.168.50.0/24", "pnet")

	// -P: both exposed ports, each on a host port of the range.
	e.must("run", "-d", "--name", "all", "--net", "pnet", "-P", "-u", "0", ref, "busybox httpd -f -p 80 -h /app")
	ports := e.publishedPorts("all")
	if len(ports) != 2 {
		t.Fatalf("-P published %v, want 80/tcp and 53/udp", ports)
	}
	web := 0
	for _, p := range ports {
		if p.HostPort < lo || p.HostPort > hi {
			t.Errorf("-P picked %d, outside %d-%d", p.HostPort, lo, hi)
		}
		if p.ContainerPort == 80 && p.Proto == "tcp" {
			web = p.HostPort
		}
	}
	if out, err := wget(0, fmt.Sprintf("http://127.0.0.1:%d/hello", web)); err != nil || out != "hello\n" {
		t.Errorf("the port -P published: %v %q", err, out)
	}
	if ps := e.must("ps"); !strings.Contains(ps, fmt.Sprintf("0.0.0.0:%d->80/tcp", web)) {
		t.Errorf("ps does not show the picked port:\n%s", ps)
	}

	// -p 127.0.0.1::80 and -p 80: other free ports, never one already taken.
	e.must("run", "-d", "--name", "one", "--net", "pnet", "-p", "127.0.0.1::80", "-p", "8081:81", "-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	e.must("run", "-d", "--name", "two", "--net", "pnet", "-p", "80", "-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	seen := map[int]string{}
	for _, name := range []string{"all", "one", "two"} {
		for _, p := range e.publishedPorts(name) {
			key := strconv.Itoa(p.HostPort) + "/" + p.Proto
			if other, dup := seen[p.HostPort]; dup && other == p.Proto {
				t.Errorf("host port %s published twice", key)
			}
			seen[p.HostPort] = p.Proto
			if name != "all" && p.ContainerPort == 80 {
				if out, err := wget(0, fmt.Sprintf("http://127.0.0.1:%d/", p.HostPort)); err != nil || !strings.Contains(out, "hello from mydocker") {
					t.Errorf("%s's picked port %d: %v %q", name, p.HostPort, err, out)
				}
			}
		}
	}
	if _, ok := seen[8081]; !ok {
		t.Errorf("the explicit -p 8081:81 is not published: %v", seen)
	}

	// Nothing to publish on without a network; an image without exposed
	// ports makes -P a no-op.
	e.fails("-P needs a network", "run", "--rm", "--net", "none", "-P", ref, "true")
	e.must("run", "--rm", "--net", "pnet", "-P", "busybox", "true")

	// --expose adds to the image's: recorded, and published by -P.
	e.must("run", "-d", "--name", "ex", "--net", "pnet", "--expose", "80", "--expose", "7000-7001/udp", "-P", "-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	if got := e.must("inspect", "-f", "{{json .Config.ExposedPorts}}", "ex"); got != `{"7000/udp":{},"7001/udp":{},"80/tcp":{}}`+"\n" {
		t.Errorf("--expose in inspect: %q", got)
	}
	for _, p := range e.publishedPorts("ex") {
		if p.ContainerPort == 80 {
			if out, err := wget(0, fmt.Sprintf("http://127.0.0.1:%d/", p.HostPort)); err != nil || !strings.Contains(out, "hello from mydocker") {
				t.Errorf("the port -P published for --expose 80: %v %q", err, out)
			}
		}
	}
	if n := len(e.publishedPorts("ex")); n != 3 {
		t.Errorf("-P with --expose 80 and 7000-7001/udp published %d ports, want 3", n)
	}
	e.fails("invalid --expose", "run", "--rm", "--net", "pnet", "--expose", "80/sctp", "busybox", "true")
	e.must("rm", "-f", "ex")

	e.must("rm", "-f", "all", "one", "two")
	if out := sh(t, "iptables-save"); strings.Contains(out, "MYDOCKER-P-") || strings.Contains(out, "-j DNAT") {
		t.Errorf("port rules left after rm:\n%s", out)
	}
	e.must("network", "rm", "pnet")
	e.must("rmi", ref)
	if after := hostState(t); after != before {
		t.Errorf("host state changed:\nbefore %s\nafter  %s", before, after)
	}
}

type publishedPort struct {
	HostIP        string
	HostPort      int
	ContainerPort int
	Proto         string
}

// publishedPorts reads inspect's NetworkSettings.Ports, docker's map of
// "80/tcp" to its bindings.
func (e *env) publishedPorts(ref string) []publishedPort {
	e.t.Helper()
	var out []struct {
		NetworkSettings struct {
			Ports map[string][]struct {
				HostIP   string `json:"HostIp"`
				HostPort string
			}
		}
	}
	if err := json.Unmarshal([]byte(e.must("inspect", ref)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("inspect %s: %v", ref, err)
	}
	var ports []publishedPort
	for key, bindings := range out[0].NetworkSettings.Ports {
		port, proto, _ := strings.Cut(key, "/")
		for _, b := range bindings {
			p := publishedPort{HostIP: b.HostIP, Proto: proto}
			p.ContainerPort, _ = strconv.Atoi(port)
			p.HostPort, _ = strconv.Atoi(b.HostPort)
			ports = append(ports, p)
		}
	}
	return ports
}

func ephemeralRange(t *testing.T) (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		t.Fatal(err)
	}
	return lo, hi
}
