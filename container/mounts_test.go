package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVolume(t *testing.T) {
	good := map[string]Mount{
		"/tmp/data:/data":     {Type: MountBind, Source: "/tmp/data", Destination: "/data"},
		"/tmp/data/:/data:ro": {Type: MountBind, Source: "/tmp/data", Destination: "/data", ReadOnly: true, Mode: "ro"},
		"/a:/b:rw":            {Type: MountBind, Source: "/a", Destination: "/b", Mode: "rw"},
		"/data":               {Type: MountVolume, Destination: "/data", Anonymous: true},
		"db:/var/lib/db":      {Type: MountVolume, Name: "db", Destination: "/var/lib/db"},
		"db:/x/:ro,nocopy":    {Type: MountVolume, Name: "db", Destination: "/x", ReadOnly: true, NoCopy: true, Mode: "ro,nocopy"},
	}
	wd, _ := os.Getwd()
	good["./here:/h"] = Mount{Type: MountBind, Source: filepath.Join(wd, "here"), Destination: "/h"}
	for spec, want := range good {
		got, err := ParseVolume(spec)
		if err != nil || got != want {
			t.Errorf("ParseVolume(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	// a: a volume name is 2 characters at least; /a:ro: a mode needs a source.
	for _, spec := range []string{"a:/b", "/a:b", "/a:/", "/a:/b:rx", "/a:/b:ro:x", "", "/a:ro", "x y:/b", "/a:/b:nocopy", "/a:/b:ro,rw", "relative"} {
		if _, err := ParseVolume(spec); err == nil {
			t.Errorf("ParseVolume(%q) accepted", spec)
		}
	}
}

func TestParseMount(t *testing.T) {
	good := map[string]Mount{
		"type=bind,source=/tmp,target=/t,readonly":            {Type: MountBind, Source: "/tmp", Destination: "/t", ReadOnly: true},
		"type=volume,src=db,dst=/db":                          {Type: MountVolume, Name: "db", Destination: "/db"},
		"target=/anon,volume-nocopy":                          {Type: MountVolume, Destination: "/anon", Anonymous: true, NoCopy: true},
		"type=tmpfs,destination=/s,tmpfs-size=1m":             {Type: MountTmpfs, Destination: "/s", TmpfsOptions: "size=1048576"},
		"type=tmpfs,dst=/s,tmpfs-mode=1770,ro=true":           {Type: MountTmpfs, Destination: "/s", TmpfsOptions: "mode=1770,ro", ReadOnly: true},
		"type=bind,src=/tmp,dst=/t,bind-propagation=rprivate": {Type: MountBind, Source: "/tmp", Destination: "/t"},
	}
	for spec, want := range good {
		got, err := ParseMount(spec)
		if err != nil || got != want {
			t.Errorf("ParseMount(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	// docker's words for docker's mistakes.
	bad := map[string]string{
		"type=volume,source=v":                   "target is required",
		"type=bind,target=/t":                    `invalid mount config for type "bind": field Source must not be empty`,
		"type=tmpfs,source=x,target=/t":          `invalid mount config for type "tmpfs": field Source must not be specified`,
		"type=foo,target=/t":                     `invalid mount config for type "foo": mount type unknown`,
		"type=bind,src=/a,dst=/b,bogus":          "invalid field 'bogus' must be a key=value pair",
		"type=bind,src=/a,dst=/b,x=1":            "unexpected key 'x' in 'x=1'",
		"type=bind,src=/a,dst=/b,tmpfs-size=1m":  "cannot mix 'tmpfs-*' options with mount type 'bind'",
		"type=tmpfs,dst=/b,tmpfs-size=lots":      "invalid value for tmpfs-size: lots",
		"type=volume,src=vv,dst=relative":        "mount path must be absolute",
		"type=bind,src=/a,dst=/b,readonly=maybe": "invalid value for readonly: maybe",
	}
	for spec, want := range bad {
		_, err := ParseMount(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMount(%q) = %v; want an error with %q", spec, err, want)
		}
	}
}

func TestParseMountsRefusesTwoAtOnePath(t *testing.T) {
	o := RunOptions{Volumes: []string{"v1:/data"}, Mounts: []string{"type=tmpfs,dst=/data/"}}
	if _, err := parseMounts(o); err == nil || !strings.Contains(err.Error(), "duplicate mount point: /data") {
		t.Fatalf("parseMounts = %v", err)
	}
	o = RunOptions{Mounts: []string{"type=bind,src=/nonexistent-mydocker,dst=/x"}}
	if _, err := parseMounts(o); err == nil || !strings.Contains(err.Error(), "bind source path does not exist: /nonexistent-mydocker") {
		t.Fatalf("parseMounts = %v", err)
	}
}

func TestRAMInBytes(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "64k": 64 << 10, "1m": 1 << 20, "2GB": 2 << 30, "1.5k": 1536} {
		if got, err := ramInBytes(in); err != nil || got != want {
			t.Errorf("ramInBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}
