package security

import (
	"slices"
	"strings"
	"testing"
)

func TestDefaultCapMask(t *testing.T) {
	m, err := CapMask(DefaultCaps)
	if err != nil || m != "00000000a80425fb" {
		t.Fatalf("CapMask(default) = %s, %v; docker's CapEff is 00000000a80425fb", m, err)
	}
	c, err := ResolveCaps(defaultCapsEnv(), nil, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]string{c.Bounding, c.Permitted, c.Effective} {
		if m, _ := CapMask(set); m != "00000000a80425fb" {
			t.Errorf("set %v: %s", set, m)
		}
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable %v ambient %v, want empty", c.Inheritable, c.Ambient)
	}
}

func without(set []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(set), func(c string) bool { return slices.Contains(drop, c) })
}

// TestResolveCaps follows moby's TweakCapabilities, case by case.
func TestResolveCaps(t *testing.T) {
	env := defaultCapsEnv()
	all := env.allCaps()
	cases := []struct {
		name        string
		add, drop   []string
		privileged  bool
		want        []string
		wantErrPart string
	}{
		{name: "defaults", want: DefaultCaps},
		{name: "add without prefix, any case", add: []string{"sys_admin"}, want: append(slices.Clone(DefaultCaps), "CAP_SYS_ADMIN")},
		{name: "add with prefix", add: []string{"CAP_NET_ADMIN"}, want: append(slices.Clone(DefaultCaps), "CAP_NET_ADMIN")},
		{name: "drop", drop: []string{"net_raw", "Cap_Mknod"}, want: without(DefaultCaps, "CAP_NET_RAW", "CAP_MKNOD")},
		{name: "drop ALL", drop: []string{"all"}, want: nil},
		{name: "drop ALL, add one", drop: []string{"ALL"}, add: []string{"chown"}, want: []string{"CAP_CHOWN"}},
		{name: "add ALL", add: []string{"ALL"}, want: all},
		{name: "add ALL, drop one", add: []string{"ALL"}, drop: []string{"sys_admin"}, want: without(all, "CAP_SYS_ADMIN")},
		{name: "add ALL wins over drop ALL", add: []string{"ALL"}, drop: []string{"ALL"}, want: all},
		{name: "add and drop the same: add wins", add: []string{"NET_ADMIN"}, drop: []string{"net_admin"}, want: append(slices.Clone(DefaultCaps), "CAP_NET_ADMIN")},
		{name: "privileged", privileged: true, drop: []string{"chown"}, want: all},
		{name: "unknown", add: []string{"FLY"}, wantErrPart: `unknown capability: "CAP_FLY"`},
		{name: "unknown drop", drop: []string{"CAP_NOPE"}, wantErrPart: `unknown capability: "CAP_NOPE"`},
		{name: "beyond the kernel", add: []string{"CHECKPOINT_RESTORE"}, wantErrPart: "unknown capability"},
	}
	for _, c := range cases {
		e := env
		if c.name == "beyond the kernel" {
			e.LastCap = 39
		}
		got, err := ResolveCaps(e, c.add, c.drop, c.privileged, false)
		if c.wantErrPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrPart) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErrPart)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want := sortCaps(c.want)
		if !slices.Equal(got.Bounding, want) || !slices.Equal(got.Effective, want) || !slices.Equal(got.Permitted, want) {
			t.Errorf("%s: got %v, want %v", c.name, got.Bounding, want)
		}
	}
}

func TestResolveCapsUnavailable(t *testing.T) {
	// This sandbox's own bounding set lacks CAP_SYS_RESOURCE (bit 24), as
	// docker-in-docker can: docker refuses to add it, privileged skips it.
	env := CapEnv{LastCap: 40, Available: (1<<41 - 1) &^ (1 << 24)}
	if _, err := ResolveCaps(env, []string{"SYS_RESOURCE"}, nil, false, false); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("error %v", err)
	}
	c, _ := ResolveCaps(env, nil, nil, true, false)
	if m, _ := CapMask(c.Bounding); m != "000001fffeffffff" {
		t.Errorf("privileged mask %s", m)
	}
}

func TestResolveCapsNonRoot(t *testing.T) {
	c, err := ResolveCaps(defaultCapsEnv(), nil, nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := CapMask(c.Bounding); m != "00000000a80425fb" {
		t.Errorf("bounding %s", m)
	}
	if len(c.Permitted) != 0 || len(c.Effective) != 0 {
		t.Errorf("non-root: permitted %v effective %v", c.Permitted, c.Effective)
	}
}

func TestSetpriv(t *testing.T) {
	c, _ := ResolveCaps(defaultCapsEnv(), nil, []string{"ALL"}, false, false)
	got := strings.Join(Setpriv(c, true), " ")
	if got != "setpriv --bounding-set -all --inh-caps -all --ambient-caps -all --no-new-privs" {
		t.Errorf("drop all: %s", got)
	}
	c, _ = ResolveCaps(defaultCapsEnv(), nil, nil, false, false)
	got = strings.Join(Setpriv(c, false), " ")
	want := "setpriv --bounding-set -all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap --inh-caps -all --ambient-caps -all"
	if got != want {
		t.Errorf("default:\n got %s\nwant %s", got, want)
	}
}
