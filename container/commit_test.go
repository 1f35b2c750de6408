package container

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/container/security"
)

func TestCommitConfig(t *testing.T) {
	img := v1.Config{Env: []string{"PATH=/bin"}, Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo hi"},
		WorkingDir: "/app", User: "65534", StopSignal: "SIGUSR1", ExposedPorts: map[string]struct{}{"80/tcp": {}}}
	c := &Config{Env: []string{"PATH=/bin", "A=1"}, Cmd: []string{"/bin/sh", "-c", "work"}, WorkingDir: "/data",
		Labels: map[string]string{"l": "v"}, Security: &security.Config{Flags: security.Flags{User: "0"}}}
	got := commitConfig(c, img)
	want := img
	want.Env, want.Cmd, want.WorkingDir, want.User, want.Labels = c.Env, []string{"work"}, "/data", "0", c.Labels
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with the image's entrypoint:\n%+v\nwant\n%+v", got, want)
	}
	// --entrypoint, or a command that does not start with the image's
	// entrypoint: the whole command is the Cmd.
	c.Cmd = []string{"/bin/cat", "/etc/motd"}
	if got := commitConfig(c, img); got.Entrypoint != nil || !reflect.DeepEqual(got.Cmd, c.Cmd) {
		t.Errorf("another command: entrypoint %q cmd %q", got.Entrypoint, got.Cmd)
	}
	// The entrypoint alone: no Cmd.
	c.Cmd = []string{"/bin/sh", "-c"}
	if got := commitConfig(c, img); !reflect.DeepEqual(got.Entrypoint, img.Entrypoint) || got.Cmd != nil {
		t.Errorf("the entrypoint alone: entrypoint %q cmd %q", got.Entrypoint, got.Cmd)
	}
	if img.Cmd[0] != "echo hi" || len(img.Env) != 1 {
		t.Errorf("the image's config changed: %+v", img)
	}
}

func TestCommitSkip(t *testing.T) {
	skip := commitSkip(&Config{Mounts: []Mount{{Source: "/host/v", Destination: "/data/"}, {Source: "/f", Destination: "/srv/conf.txt"}}})
	for rel, want := range map[string]bool{"etc/hosts": true, "etc/hostname": true, "etc/resolv.conf": true, "data": true, "data/x": true,
		"srv/conf.txt": true, "srv": false, "etc": false, "etc/passwd": false, "database": false} {
		if skip.Has(rel) != want {
			t.Errorf("skip %q: %v, want %v", rel, !want, want)
		}
	}
}
