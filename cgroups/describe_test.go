package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The three modes as info and the narration say them.
func TestHostAbout(t *testing.T) {
	v2root := t.TempDir()
	os.WriteFile(filepath.Join(v2root, "cgroup.controllers"), []byte("pids memory cpu cpuset io\n"), 0o644)
	for _, tc := range []struct {
		h           Host
		layout      string
		controllers string
		about       string
	}{
		{Host{Mode: V2, Unified: v2root}, "unified", "cpu cpuset io memory pids", "this host is cgroup v2, unified (one cgroup2 hierarchy at " + v2root + "), with the controllers cpu cpuset io memory pids"},
		{Host{Mode: V1, Mounts: map[string]string{"memory": "/m", "cpu": "/c", "cpuacct": "/c", "name=systemd": "/s"}, Unified: "/u"}, "hybrid", "cpu cpuacct memory",
			"this host is cgroup v1, hybrid (v1 controllers, and a cgroup2 at /u for the device program), with the controllers cpu cpuacct memory"},
		{Host{Mode: V1, Mounts: map[string]string{"pids": "/p"}}, "v1", "pids", "this host is cgroup v1, with the controllers pids"},
		{Host{Mode: V2, Unified: t.TempDir()}, "unified", "", "with the controllers none"},
	} {
		if got := tc.h.Layout(); got != tc.layout {
			t.Errorf("%+v: Layout %q, want %q", tc.h, got, tc.layout)
		}
		if got := strings.Join(tc.h.Controllers(), " "); got != tc.controllers {
			t.Errorf("%+v: Controllers %q, want %q", tc.h, got, tc.controllers)
		}
		if got := tc.h.About(); !strings.HasSuffix(got, tc.about) {
			t.Errorf("%+v: About %q, want it to end %q", tc.h, got, tc.about)
		}
	}
}
