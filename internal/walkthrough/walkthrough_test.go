package walkthrough

import (
	"strings"
	"testing"
)

const chapter = `# A chapter
<!-- walkthrough:setup
mydocker network create web
-->
<!-- walkthrough:needs netsetgo -->
text
<!-- walkthrough:run -->
` + "```console\n$ echo one\nold output\n$ echo two\n```\n" + `<!-- walkthrough:end -->
between
<!-- walkthrough:mermaid web -->
<!-- walkthrough:end -->
end
`

func TestParseAndRender(t *testing.T) {
	c, err := Parse("x.md", chapter)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Setup) != 1 || c.Setup[0] != "mydocker network create web" || len(c.Needs) != 1 || c.Needs[0] != "netsetgo" {
		t.Fatalf("setup %q needs %q", c.Setup, c.Needs)
	}
	if len(c.Blocks) != 2 || strings.Join(c.Blocks[0].Cmds, "|") != "echo one|echo two" || c.Blocks[1].Network != "web" {
		t.Fatalf("blocks %+v", c.Blocks)
	}
	c.Blocks[0].Outputs = []string{"one", ""}
	c.Blocks[1].Outputs = []string{"flowchart LR\n"}
	got := c.Render(nil)
	want := strings.Replace(chapter, "$ echo one\nold output\n", "$ echo one\none\n", 1)
	want = strings.Replace(want, "<!-- walkthrough:mermaid web -->\n", "<!-- walkthrough:mermaid web -->\n```mermaid\nflowchart LR\n```\n", 1)
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	// Rendering is stable: parse what was rendered, render again.
	c2, err := Parse("x.md", got)
	if err != nil {
		t.Fatal(err)
	}
	c2.Blocks[0].Outputs, c2.Blocks[1].Outputs = c.Blocks[0].Outputs, c.Blocks[1].Outputs
	if again := c2.Render(nil); again != got {
		t.Fatalf("not stable:\n%s", again)
	}
	// Not run: the blocks say why.
	c3, _ := Parse("x.md", chapter)
	if out := c3.Render([]string{"netsetgo"}); !strings.Contains(out, "$ echo two\n(not generated: this mydocker has no netsetgo verb") {
		t.Fatalf("skipped rendering:\n%s", out)
	}
}

func TestNormalize(t *testing.T) {
	id1 := strings.Repeat("ab", 32)
	id2 := strings.Repeat("cd", 32)
	in := strings.Join([]string{
		"INFO $ ip link add vethcdcdcdc1234 type veth peer name eth0 address 02:42:0a:14:00:02 netns 31337   pid=99 source=\"network/endpoint.go:70\"",
		"INFO $ nsenter -t 31337 -n ip link set dev eth0 up        pid=99 source=\"x.go:1\"",
		"INFO $ echo 31337 > /sys/fs/cgroup/pids/mydocker/" + id2 + "/cgroup.procs pid=99 source=\"x.go:2\"",
		"INFO // no container uses the mydocker parent cgroup any more pid=99 source=\"x.go:3\"",
		"INFO $ rmdir /sys/fs/cgroup/pids/mydocker pid=99 source=\"x.go:3\"",
		"hostname " + id1[:12] + " /tmp/T1/run/containers/" + id1,
		"web UNKNOWN 9e:2e:76:e0:09:94 fe80::9c2e:76ff:fee0:994/64 \"Created\": \"2026-11-22T14:05:46.123456789Z\"",
		"64 bytes from 10.20.0.1: seq=0 ttl=64 time=0.052 ms",
	}, "\n")
	n := NewNormalizer(map[string]string{"/tmp/T1/run": "/var/run/mydocker"})
	n.Known = []string{id1}
	got := n.Normalize(in)
	f0, f1 := fakeID(0), fakeID(1)
	for _, want := range []string{
		"INFO $ ip link add veth" + f0[:7], "netns 4242\n",
		"INFO $ nsenter -t 4242 -n ip link set dev eth0 up\n",
		"echo 4242 > /sys/fs/cgroup/pids/mydocker/" + f0 + "/cgroup.procs",
		"hostname " + f1[:12] + " /var/run/mydocker/containers/" + f1,
		"web UNKNOWN xx:xx:xx:xx:xx:xx fe80::xxxx/64 \"Created\": \"2026-01-01T12:00:00.000000000Z\"",
		"time=0.100 ms",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for _, bad := range []string{"pid=", "source=", "31337", "mydocker parent", "rmdir", id1[:12], id2[:12], "02:42:0a:14:00:02"[:0] + "9e:2e"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q left in:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, "address 02:42:0a:14:00:02") {
		t.Errorf("mydocker's own MACs are stable and stay:\n%s", got)
	}
	if n.Normalize(in) != got {
		t.Error("not deterministic")
	}
}

// Image digests are content: stable, and no container ids, even where
// their short form shows; the temp files of a pull are named by its pid.
func TestNormalizeKeepsDigests(t *testing.T) {
	img := strings.Repeat("12", 32)
	chain := strings.Repeat("34", 32)
	ctr := strings.Repeat("56", 32)
	in := strings.Join([]string{
		"INFO $ curl -o /tmp/T1/lib/image/blobs/sha256/.tmp-31337-3-" + img + " http://127.0.0.1:5000/v2/app/blobs/sha256:" + img,
		"INFO $ mv -T /tmp/T1/lib/image/layers/.tmp-31337-" + chain + " /tmp/T1/lib/image/layers/" + chain,
		"INFO $ ln -s ../layers/" + chain + "/diff /tmp/T1/lib/image/l/" + chain[:16],
		"app   v1   " + img[:12] + "   N/A   1.98MB",
		"INFO $ mkdir -p /tmp/T1/run/containers/" + ctr,
		"INFO $ nsenter -t 31338 -m mount -t overlay -o lowerdir=l/" + chain[:16] + ",upperdir=/x/" + ctr[:12],
	}, "\n")
	n := NewNormalizer(map[string]string{"/tmp/T1/run": "/var/run/mydocker", "/tmp/T1/lib": "/var/lib/mydocker"})
	got := n.Normalize(in)
	for _, want := range []string{
		"/var/lib/mydocker/image/blobs/sha256/.tmp-4242-3-" + img + " http://127.0.0.1:5000/v2/app/blobs/sha256:" + img,
		"/var/lib/mydocker/image/layers/.tmp-4242-" + chain + " /var/lib/mydocker/image/layers/" + chain,
		"/var/lib/mydocker/image/l/" + chain[:16], "app   v1   " + img[:12],
		"/var/run/mydocker/containers/" + fakeID(0), "lowerdir=l/" + chain[:16] + ",upperdir=/x/" + fakeID(0)[:12],
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, ctr[:12]) || strings.Contains(got, "31337") {
		t.Errorf("a container id or a pid left in:\n%s", got)
	}
}

// An overlay network's narration: etcd's lease ids (the member's id and a
// clock) and the pids a teardown kills vary from run to run; the same
// lease is the same stand-in wherever it shows.
func TestNormalizeLeasesAndKills(t *testing.T) {
	pairs := [][2]string{ // what mydocker said, what the page shows
		{`put --lease=379fa22e3fb94011 "/mydocker/v1/subnets/ov1/10.200.0.0-24" "{}"`, `put --lease=694d000000000001 "/mydocker/v1/subnets/ov1/10.200.0.0-24" "{}"`},
		{`INFO $ etcdctl lease revoke 379fa22e3fb9401f`, `INFO $ etcdctl lease revoke 694d000000000002`},
		{`INFO $ etcdctl lease revoke 379fa22e3fb94011`, `INFO $ etcdctl lease revoke 694d000000000001`},
		{`INFO $ kill -TERM 28232`, `INFO $ kill -TERM 4242`},
		{`INFO $ kill -KILL 28169`, `INFO $ kill -KILL 4243`},
	}
	var in, want []string
	for _, p := range pairs {
		in, want = append(in, p[0]), append(want, p[1])
	}
	if got := NewNormalizer(nil).Normalize(strings.Join(in, "\n")); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
