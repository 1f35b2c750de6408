package container

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/statefile"
)

func TestParseRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"", "no:0", ""},
		{"no", "no:0", ""},
		{"always", "always:0", ""},
		{"unless-stopped", "unless-stopped:0", ""},
		{"on-failure", "on-failure:0", ""},
		{"on-failure:2", "on-failure:2", ""},
		{"on-failure:-1", "", "must be a number, 0 or more"},
		{"on-failure:x", "", "must be a number, 0 or more"},
		{"always:3", "", "can only be used with 'on-failure'"},
		{"sometimes", "", "invalid restart policy"},
	} {
		p, err := ParseRestartPolicy(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && fmt.Sprintf("%s:%d", p.Name, p.MaximumRetryCount) != tc.want:
			t.Errorf("%q: %+v, want %s", tc.in, p, tc.want)
		}
	}
}

// The policies as docker's restart manager applies them: a stop ends
// every one; on-failure counts.
func TestRestarts(t *testing.T) {
	pol := func(s string) *RestartPolicy { p, _ := ParseRestartPolicy(s); return p }
	for _, tc := range []struct {
		policy        *RestartPolicy
		code, count   int
		stopped, want bool
	}{
		{nil, 1, 0, false, false},
		{pol("no"), 1, 0, false, false},
		{pol("always"), 0, 5, false, true},
		{pol("always"), 137, 0, true, false},
		{pol("unless-stopped"), 0, 0, false, true},
		{pol("unless-stopped"), 0, 0, true, false},
		{pol("on-failure"), 0, 0, false, false},
		{pol("on-failure"), 1, 100, false, true},
		{pol("on-failure:2"), 3, 1, false, true},
		{pol("on-failure:2"), 3, 2, false, false},
		{pol("on-failure:2"), 3, 0, true, false},
	} {
		if got := tc.policy.restarts(tc.code, tc.count, tc.stopped); got != tc.want {
			t.Errorf("%+v code %d count %d stopped %v: %v, want %v", tc.policy, tc.code, tc.count, tc.stopped, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	wait := time.Duration(0)
	for i := 0; i < 12; i++ {
		wait = backoff(wait, time.Second)
		got = append(got, wait)
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("back-off %d: %v, want %v (all: %v)", i, got[i], want[i]*time.Millisecond, got)
		}
	}
	if b := backoff(time.Minute, 10*time.Second); b != 100*time.Millisecond {
		t.Errorf("after 10 s of running: %v, want 100ms", b)
	}
}

// ps says Restarting only while the shim that waits to restart it lives.
func TestStatusRestarting(t *testing.T) {
	me, start := os.Getpid(), pidStart(os.Getpid())
	now := time.Now()
	c := &Config{Status: StatusExited, ExitCode: 3, Finished: now.Add(-2 * time.Second), Restarting: true, MonitorPid: me, MonitorStart: start}
	if got := c.StatusText(now); got != "Restarting (3) 2 seconds ago" {
		t.Errorf("restarting: %q", got)
	}
	c.MonitorStart = start + 1 // its shim died
	if got := c.StatusText(now); got != "Exited (3) 2 seconds ago" {
		t.Errorf("restarting, its shim gone: %q", got)
	}
}

// Made records: one at rest is nobody's to settle; one whose starter died
// goes back to its record, created (never ran) or exited (ran before),
// never removed; ContainerAlive keeps the endpoints of one being started.
func TestSettleMade(t *testing.T) {
	r, _ := planRuntime(t)
	me := os.Getpid()
	start := pidStart(me)
	dead := start + 1
	ran := time.Now().Add(-time.Minute)
	recs := map[string]*Config{
		"created":       {Status: StatusCreated, Made: true},
		"starting":      {Status: StatusCreated, Made: true, Creator: me, CreatorStart: start},
		"unstarted":     {Status: StatusCreated, Made: true, Creator: me, CreatorStart: dead, Pid: me, PidStart: dead},
		"startedbefore": {Status: StatusCreated, Made: true, Creator: me, CreatorStart: dead, ExitCode: 4, Finished: ran},
	}
	ids := map[string]string{}
	i := 0
	for name, c := range recs {
		i++
		c.ID, c.Name, c.Cmd, c.Created = strings.Repeat(fmt.Sprintf("%x", i+8), 64), name, []string{"sh"}, time.Now()
		ids[name] = c.ID
		if err := statefile.WriteJSON(r.Paths.configPath(c.ID), c); err != nil {
			t.Fatal(err)
		}
	}
	if !r.ContainerAlive(ids["starting"]) || r.ContainerAlive(ids["created"]) {
		t.Errorf("ContainerAlive: starting %v (want true), created %v (want false)", r.ContainerAlive(ids["starting"]), r.ContainerAlive(ids["created"]))
	}
	list, err := r.Store().List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Config{}
	for _, c := range list {
		got[c.Name] = c
	}
	for name, want := range map[string]string{"created": StatusCreated, "starting": StatusCreated, "unstarted": StatusCreated, "startedbefore": StatusExited} {
		c := got[name]
		if c == nil {
			t.Errorf("%s: removed", name)
			continue
		}
		if c.Status != want {
			t.Errorf("%s: status %s, want %s", name, c.Status, want)
		}
	}
	for _, name := range []string{"unstarted", "startedbefore"} {
		if c := got[name]; c != nil && (c.Creator != 0 || c.Pid != 0 || c.MonitorPid != 0) {
			t.Errorf("%s: owners kept after its start was undone: %+v", name, c)
		}
	}
	if c := got["startedbefore"]; c != nil && c.ExitCode != 4 {
		t.Errorf("startedbefore: exit code %d, want its previous 4", c.ExitCode)
	}
	if c := got["starting"]; c != nil && c.Creator != me {
		t.Errorf("starting: its live starter was replaced: %+v", c)
	}
}
