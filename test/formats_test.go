package test

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// jsonKeys are the keys of one line of JSON, sorted.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("not one JSON object: %q: %v", line, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// --format on the list verbs, as docker's documented fields and shapes:
// `table` adds the header, `json` is one object a line; ps -s; network
// inspect in docker's shape; -q quiets the narration.
func TestListFormatsAsDocker(t *testing.T) {
	e := newEnv(t)
	// -q: nothing narrated; without it, the teaching voice.
	if r := e.run("-q", "network", "create", "fmtnet", "--subnet", "192.168.64.0/24"); r.code != 0 || r.stderr != "" {
		t.Fatalf("-q network create: %d, stderr %q", r.code, r.stderr)
	}
	if r := e.run("run", "-d", "--name", "f1", "--net", "fmtnet", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /big; sleep 100"); r.code != 0 || !strings.Contains(r.stderr, "$ ") {
		t.Fatalf("run without -q narrates nothing? %d %q", r.code, r.stderr)
	}
	if r := e.run("--quiet", "inspect", "nosuch"); r.code != 125 || r.stderr != "mydocker: no such container, image or network: nosuch\n" {
		t.Errorf("--quiet still says what failed: %d %q", r.code, r.stderr)
	}
	if r := e.run("-l", "warn", "run", "--rm", "--net", "none", "busybox", "true"); r.code != 0 || r.stderr != "" {
		t.Errorf("-l warn (docker's -l, --log-level): %d %q", r.code, r.stderr)
	}
	if out := e.ok("--help"); !strings.Contains(out, "-q run") || !strings.Contains(out, "MYDOCKER_LOG_LEVEL=warn") || !strings.Contains(out, "--log-format script") {
		t.Errorf("--help does not say how to quiet the narration:\n%s", out)
	}

	// ps --format json: docker's keys; ps -s: docker's SIZE column.
	waitFor(t, "f1 to write /big", func() bool { return strings.HasPrefix(e.ok("ps", "-s", "--format", "{{.Size}}"), "10") })
	line := e.ok("ps", "--format", "json")
	want := []string{"Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "Size", "State", "Status"}
	if keys := jsonKeys(t, line); !reflect.DeepEqual(keys, want) {
		t.Errorf("ps --format json keys: %v, want docker's %v", keys, want)
	}
	if !strings.Contains(line, `"Names":"f1"`) || !strings.Contains(line, `"Networks":"fmtnet"`) || !strings.Contains(line, `"State":"running"`) {
		t.Errorf("ps --format json: %s", line)
	}
	ps := e.ok("ps", "-s")
	if !regexp.MustCompile(`^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +SIZE\n[0-9a-f]{12} +busybox .* f1 +10\dkB \(virtual \d+(\.\d+)?[kM]B\)\n$`).MatchString(ps) {
		t.Errorf("ps -s:\n%s", ps)
	}

	// images --format.
	if out := e.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); out != "busybox:latest\n" {
		t.Errorf("images --format: %q", out)
	}
	if out := e.ok("images", "-a", "-q"); out != "busybox\n" {
		t.Errorf("images -a -q: %q", out)
	}
	if out := e.ok("images", "--format", "{{.Repository}}", "nosuch"); out != "" {
		t.Errorf("images nosuch: %q", out)
	}
	if out := e.ok("images", "--format", "{{.Repository}}", "busybox:latest"); out != "busybox\n" {
		t.Errorf("images busybox:latest: %q", out)
	}
	if out := e.ok("images", "-f", "reference=busy*", "-f", "dangling=false", "--format", "{{.Repository}}"); out != "busybox\n" {
		t.Errorf("images -f reference=busy* -f dangling=false: %q", out)
	}
	if out := e.ok("images", "--filter", "dangling=true", "-q"); out != "" {
		t.Errorf("images --filter dangling=true: %q", out)
	}
	e.fails("invalid filter", "images", "-f", "color=red")
	if out := e.ok("images", "--format", "table {{.Repository}}\t{{.Tag}}"); !regexp.MustCompile(`^REPOSITORY +TAG\nbusybox +latest\n$`).MatchString(out) {
		t.Errorf("images --format table: %q", out)
	}
	want = []string{"Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"}
	if keys := jsonKeys(t, e.ok("images", "--format", "json")); !reflect.DeepEqual(keys, want) {
		t.Errorf("images --format json keys: %v, want docker's %v", keys, want)
	}

	// network ls --format, -q; network inspect in docker's shape, by id too.
	if out := e.ok("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}} {{.IpRange}}"); out != "fmtnet bridge local 192.168.64.1/24\n" {
		t.Errorf("network ls --format: %q", out)
	}
	if out := e.ok("network", "ls", "--format", "table {{.Name}}\t{{.Driver}}"); !regexp.MustCompile(`^NAME +DRIVER\nfmtnet +bridge\n$`).MatchString(out) {
		t.Errorf("network ls --format table: %q", out)
	}
	want = []string{"Bridge", "Containers", "CreatedAt", "Driver", "ID", "IPv6", "Internal", "IpRange", "Labels", "Name", "Scope"}
	if keys := jsonKeys(t, e.ok("network", "ls", "--format", "json")); !reflect.DeepEqual(keys, want) {
		t.Errorf("network ls --format json keys: %v, want docker's and mydocker's %v", keys, want)
	}
	if out := e.ok("network", "ls", "-f", "name=mtn", "-f", "driver=bridge", "--format", "{{.Name}}"); out != "fmtnet\n" {
		t.Errorf("network ls -f name=mtn -f driver=bridge: %q", out)
	}
	if out := e.ok("network", "ls", "-f", "driver=overlay", "-q"); out != "" {
		t.Errorf("network ls -f driver=overlay: %q", out)
	}
	id := strings.TrimSpace(e.ok("network", "ls", "-q"))
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("network ls -q: %q", id)
	}
	if out := e.ok("network", "inspect", "-f", "{{.Name}} {{.Id}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", id); !regexp.MustCompile(`^fmtnet ` + id + `[0-9a-f]{52} 192\.168\.64\.0/24 192\.168\.64\.1\n$`).MatchString(out) {
		t.Errorf("network inspect -f ... ID: %q", out)
	}
	if out := e.ok("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{end}}", "fmtnet"); !regexp.MustCompile(`^f1 192\.168\.64\.2/24 ([0-9a-f]{2}:){5}[0-9a-f]{2}\n$`).MatchString(out) {
		t.Errorf("network inspect -f .Containers: %q", out)
	}
	var nws []struct {
		Name, Id, Scope, Driver, Bridge string
		IPAM                            struct {
			Config []struct{ Subnet, Gateway string }
		}
		Containers map[string]struct{ Name, IPv4Address, IP, Veth string }
	}
	if err := json.Unmarshal([]byte(e.ok("network", "inspect", "fmtnet")), &nws); err != nil || len(nws) != 1 {
		t.Fatalf("network inspect: %v", err)
	}
	if n := nws[0]; n.Scope != "local" || n.Driver != "bridge" || n.Bridge != "fmtnet" || len(n.IPAM.Config) != 1 || n.IPAM.Config[0].Gateway != "192.168.64.1" || len(n.Containers) != 1 {
		t.Errorf("network inspect: %+v", n)
	}
	for _, c := range nws[0].Containers {
		if c.Name != "f1" || c.IP != "192.168.64.2" || c.Veth == "" {
			t.Errorf("network inspect's container, docker's fields and mydocker's: %+v", c)
		}
	}

	// stats --format.
	if out := e.ok("stats", "--no-stream", "--format", "{{.Container}} {{.Name}} {{.PIDs}}", "f1"); !regexp.MustCompile(`^f1 f1 \d+\n$`).MatchString(out) {
		t.Errorf("stats --format: %q", out)
	}
	if out := e.ok("stats", "--no-stream", "--format", "table {{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}"); !regexp.MustCompile(`^NAME +CPU % +MEM USAGE / LIMIT\nf1 +\d+\.\d\d% +\S+B / \S+B\n$`).MatchString(out) {
		t.Errorf("stats --format table: %q", out)
	}
	// NET I/O: what its eth0 received and sent (a ping of the gateway: both).
	e.ok("-q", "exec", "f1", "ping", "-c", "1", "-W", "2", "192.168.64.1")
	if out := e.ok("stats", "--no-stream", "--format", "{{.NetIO}} {{.BlockIO}}", "f1"); !regexp.MustCompile(`^[1-9][0-9.]*k?B / [1-9][0-9.]*k?B --\n$`).MatchString(out) {
		t.Errorf("stats --format {{.NetIO}} {{.BlockIO}}: %q", out)
	}
	want = []string{"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"}
	if keys := jsonKeys(t, e.ok("stats", "--no-stream", "--format", "json")); !reflect.DeepEqual(keys, want) {
		t.Errorf("stats --format json keys: %v, want docker's %v", keys, want)
	}
	e.fails("invalid --format", "images", "--format", "{{.Repository")
	// info -f, over docker's field names.
	if out := e.ok("info", "-f", "{{.CgroupVersion}} {{.ContainersRunning}} {{.DockerRootDir}} {{.Driver}}"); !regexp.MustCompile(`^[12] 1 ` + regexp.QuoteMeta(e.dataRoot) + ` overlay\n$`).MatchString(out) {
		t.Errorf("info -f: %q", out)
	}

	// exec --env-file, before -e.
	envFile := t.TempDir() + "/env"
	os.WriteFile(envFile, []byte("# comment\nA=1\nB=two words\n"), 0o644)
	if out := e.ok("-q", "exec", "--env-file", envFile, "-e", "A=over", "f1", "sh", "-c", "echo $A/$B"); out != "over/two words\n" {
		t.Errorf("exec --env-file with -e: %q", out)
	}
	e.ok("-q", "rm", "-f", "f1")
	e.ok("-q", "network", "rm", id) // by the id ls -q printed
	if out := e.ok("network", "ls", "-q"); out != "" {
		t.Errorf("network rm by id left: %q", out)
	}
}

// docker's management forms: `container ls`, `container rm`, ...
func TestContainerManagementVerbs(t *testing.T) {
	e := newEnv(t)
	e.ok("-q", "container", "run", "-d", "--name", "cm", "--net", "none", "busybox", "sleep", "100")
	if out := e.ok("container", "ls", "--format", "{{.Names}} {{.State}}"); out != "cm running\n" {
		t.Errorf("container ls: %q", out)
	}
	if out := e.ok("container", "inspect", "-f", "{{.Name}}", "cm"); out != "cm\n" {
		t.Errorf("container inspect: %q", out)
	}
	// inspect finds an image or a network too, as docker's; --type only one kind.
	if out := e.ok("inspect", "-f", "{{index .RepoTags 0}}", "busybox"); out != "busybox:latest\n" {
		t.Errorf("inspect busybox: %q", out)
	}
	e.ok("-q", "network", "create", "cmnet", "--subnet", "192.168.68.0/24")
	if out := e.ok("inspect", "-f", "{{.Name}} {{.Id}}", "cmnet", "cm"); !regexp.MustCompile(`^cmnet [0-9a-f]{64}\ncm [0-9a-f]{64}\n$`).MatchString(out) {
		t.Errorf("inspect cmnet cm: %q", out)
	}
	e.fails("no such container: cmnet", "inspect", "--type", "container", "cmnet")
	e.ok("-q", "network", "rm", "cmnet")
	// After the image, flags are the command's, as in `run`.
	if out := e.ok("-q", "container", "run", "--rm", "--net", "none", "busybox", "echo", "-h"); out != "-h\n" {
		t.Errorf("container run busybox echo -h: %q", out)
	}
	if out := e.ok("-q", "container", "rm", "cm", "-f"); out != "cm\n" {
		t.Errorf("container rm cm -f: %q", out)
	}
	if out := e.ok("container", "ls", "-a", "-q"); out != "" {
		t.Errorf("container ls -a -q after rm: %q", out)
	}
}
