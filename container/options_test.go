package container

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/network"
)

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"web": true, "a": true, "Web_1.x-y": true, "9lives": true,
		"": false, "-web": false, "_web": false, ".web": false, "a/b": false, "a b": false, "../x": false,
		strings.Repeat("a", 129): false,
	} {
		if err := ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestValidateHostname(t *testing.T) {
	for h, ok := range map[string]bool{
		"box": true, "my-box.example.com": true, "a1": true,
		"": false, "-box": false, "box-": false, "a..b": false, "a_b": false, strings.Repeat("a", 65): false,
	} {
		if err := ValidateHostname(h); (err == nil) != ok {
			t.Errorf("ValidateHostname(%q) = %v, want ok=%v", h, err, ok)
		}
	}
}

func TestParseEnv(t *testing.T) {
	lookup := func(k string) (string, bool) {
		if k == "HOME" {
			return "/home/me", true
		}
		return "", false
	}
	got, err := ParseEnv([]string{"A=1", "B=x=y,z", "HOME", "UNSET", "E="}, lookup)
	want := []string{"A=1", "B=x=y,z", "HOME=/home/me", "E="}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("ParseEnv = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseEnv([]string{"=x"}, lookup); err == nil {
		t.Fatal("ParseEnv accepted an empty key")
	}
}

func TestContainerEnvOverridesDefaults(t *testing.T) {
	c := &Config{Hostname: "h", Tty: true, Env: []string{"PATH=/bin", "X=1"}}
	got := strings.Join(containerEnv(c), " ")
	if got != "PATH=/bin HOSTNAME=h HOME=/root TERM=xterm X=1" {
		t.Fatalf("containerEnv = %s", got)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[int]string{0: "Less than a second", 1: "1 second", 59: "59 seconds", 60: "About a minute", 300: "5 minutes", 3600: "About an hour", 7200: "2 hours", 3 * 86400: "3 days"} {
		if got := HumanDuration(secs(d)); got != want {
			t.Errorf("HumanDuration(%ds) = %q, want %q", d, got, want)
		}
	}
}

// The command of an image's container, as docker makes it.
func TestImageCmd(t *testing.T) {
	cfg := &v1.Config{Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo hi"}}
	for _, c := range []struct {
		o    RunOptions
		want string
	}{
		{RunOptions{}, "/bin/sh|-c|echo hi"},
		{RunOptions{Cmd: []string{"date"}}, "/bin/sh|-c|date"},
		{RunOptions{Entrypoint: "/bin/ls", EntrypointSet: true}, "/bin/ls"},
		{RunOptions{Entrypoint: "/bin/ls", EntrypointSet: true, Cmd: []string{"/app"}}, "/bin/ls|/app"},
		{RunOptions{Entrypoint: "", EntrypointSet: true, Cmd: []string{"id"}}, "id"},
		{RunOptions{Entrypoint: "", EntrypointSet: true}, ""},
		{RunOptions{Entrypoint: "/bin/my prog", EntrypointSet: true}, "/bin/my prog"},
	} {
		if got := imageCmd(c.o, cfg); strings.Join(got, "|") != c.want {
			t.Errorf("%+v: %q, want %s", c.o, got, c.want)
		}
	}
}

// A flat image's stop signal is SIGTERM; an image's is taken by name or
// number.
func TestStopSignal(t *testing.T) {
	for sig, want := range map[string]syscall.Signal{"": syscall.SIGTERM, "SIGUSR1": syscall.SIGUSR1, "quit": syscall.SIGQUIT, "9": syscall.SIGKILL, "BOGUS": syscall.SIGTERM} {
		if got := stopSignal(&Config{StopSignal: sig}); got != want {
			t.Errorf("%q: %v, want %v", sig, got, want)
		}
	}
}

// -P adds each exposed port no -p maps, in order; on --net none it has
// nowhere to publish them.
func TestPublishExposed(t *testing.T) {
	exposed := map[string]struct{}{"80/tcp": {}, "53/udp": {}, "443": {}}
	given, _ := network.ParsePortMappings([]string{"8080:80"})
	got, err := publishExposed("bridge", exposed, given)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if strings.Join(s, " ") != "8080:80/tcp 0:443/tcp 0:53/udp" {
		t.Errorf("publishExposed = %v", s)
	}
	if _, err := publishExposed(NetworkNone, exposed, nil); err == nil || !strings.Contains(err.Error(), "-P needs a network") {
		t.Errorf("-P on --net none: %v", err)
	}
	if got, err := publishExposed(NetworkNone, nil, nil); err != nil || len(got) != 0 {
		t.Errorf("-P of an image that exposes nothing: %v %v", got, err)
	}
	if _, err := publishExposed("bridge", map[string]struct{}{"http": {}}, nil); err == nil {
		t.Error("a bad exposed port accepted")
	}
}

func TestReadEnvFileAndLabels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	os.WriteFile(path, []byte("# a comment\nA=1\n  B=two words \n\nC\r\nD=\n"), 0o644)
	got, err := ReadEnvFiles([]string{path})
	if err != nil || strings.Join(got, "|") != "A=1|B=two words |C|D=" {
		t.Errorf("ReadEnvFiles = %q, %v", got, err)
	}
	os.WriteFile(path, []byte("A=1\nBAD KEY=2\n"), 0o644)
	if _, err := ReadEnvFiles([]string{path}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a key with a space: %v", err)
	}
	if _, err := ReadEnvFiles([]string{path + ".missing"}); err == nil {
		t.Error("a missing --env-file accepted")
	}
	labels, err := ParseLabels(map[string]string{"a": "image", "b": "image"}, []string{"b=flag", "c"})
	if err != nil || len(labels) != 3 || labels["a"] != "image" || labels["b"] != "flag" || labels["c"] != "" {
		t.Errorf("ParseLabels = %v, %v", labels, err)
	}
	if _, err := ParseLabels(nil, []string{"=x"}); err == nil {
		t.Error("a label without a key accepted")
	}
	if l, err := ParseLabels(nil, nil); l != nil || err != nil {
		t.Errorf("no labels: %v, %v", l, err)
	}
}

func TestExposePorts(t *testing.T) {
	got, err := exposePorts(map[string]struct{}{"443/tcp": {}}, []string{"80", "53/udp", "7000-7002/tcp"})
	if err != nil || len(got) != 6 {
		t.Fatalf("exposePorts: %v %v", got, err)
	}
	for _, k := range []string{"443/tcp", "80/tcp", "53/udp", "7000/tcp", "7001/tcp", "7002/tcp"} {
		if _, ok := got[k]; !ok {
			t.Errorf("exposePorts lacks %s: %v", k, got)
		}
	}
	for _, bad := range []string{"0", "70000", "5-3", "80/sctp", "x", "80-", ""} {
		if _, err := exposePorts(nil, []string{bad}); err == nil {
			t.Errorf("--expose %q accepted", bad)
		}
	}
}
