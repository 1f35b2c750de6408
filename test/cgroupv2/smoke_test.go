//go:build cgroupv2vm

package cgroupv2

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The everyday path on a v2 host: run, exec, a bridge network with a
// published port served to the host, and the containment probes on a
// stock kernel (which has /proc/kcore, sysrq-trigger and modules).
func TestSmoke(t *testing.T) {
	e := newEnv(t)
	if out := e.quiet("run", "--rm", "busybox", "echo", "hello"); out != "hello" {
		t.Errorf("run echo: %q", out)
	}
	www := t.TempDir()
	os.WriteFile(filepath.Join(www, "index.html"), []byte("served from a v2 host\n"), 0o644)
	e.quiet("network", "create", "--subnet", "10.88.0.0/24", "v2net")
	id := e.quiet("run", "-d", "--name", "web", "--net", "v2net", "-p", "18080:80", "-v", www+":/www:ro", "-v", probe+":/probe:ro",
		"busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	if out := e.quiet("exec", "web", "hostname"); out != id[:12] {
		t.Errorf("exec hostname: %q, want %s", out, id[:12])
	}
	var body []byte
	var werr error
	for i := 0; i < 20; i++ {
		// (busybox 1.35's wget -T segfaults: timeout(1) bounds it.)
		if body, werr = exec.Command("timeout", "3", "wget", "-q", "-O", "-", "http://127.0.0.1:18080/").CombinedOutput(); werr == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if werr != nil || string(body) != "served from a v2 host\n" {
		// What a user would look at next: the rules, and the container's side.
		rules, _ := exec.Command("iptables-save").CombinedOutput()
		inside := e.run("exec", "web", "sh", "-c", "ip addr; netstat -ltn; timeout 3 wget -q -O - http://127.0.0.1:80/")
		t.Fatalf("wget 127.0.0.1:18080: %v %q\niptables-save:\n%s\ninside:\n%s%s", werr, body, rules, inside.stdout, inside.stderr)
	}

	// Containment: masked and read-only /proc files, no module loading
	// (docker's capabilities, without CAP_SYS_MODULE, and no modules in
	// the container).
	out := e.quiet("exec", "web", "sh", "-c",
		"/probe read /proc/kcore; /probe open-append /proc/sysrq-trigger; /probe status CapEff; modprobe overlay >/dev/null 2>&1 && echo loaded || echo refused")
	if want := "empty\nEROFS\n00000000a80425fb\nrefused"; out != want {
		t.Errorf("containment probes (kcore, sysrq-trigger, CapEff, modprobe):\n%s\nwant:\n%s", out, want)
	}
	e.quiet("rm", "-f", "web")
	noCgroupLeft(t, id)
	e.quiet("network", "rm", "v2net")
	e.quiet("network", "rm", "bridge") // the default network, made by the first run
}
