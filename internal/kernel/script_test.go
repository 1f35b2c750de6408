package kernel

import (
	"bytes"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestScriptFormat(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(ScriptFormatter{})
	p := NewPlan(nil, log)
	p.Let("PID", "4123")
	p.Log().Info("dry run of container 9b52")
	if err := p.Do(Mkdir{Path: "/proc/4123/root/x", Reason: "make the mount point"},
		WriteFile{Path: "/sys/fs/cgroup/pids/c/cgroup.procs", Content: "4123", Reason: "move the init into its cgroup"}); err != nil {
		t.Fatal(err)
	}
	log.Warn("something odd")
	want := `PID="${PID:-4123}"
# dry run of container 9b52
# make the mount point
mkdir -p "/proc/${PID}/root/x"
# move the init into its cgroup
echo "${PID}" > /sys/fs/cgroup/pids/c/cgroup.procs
# WARNING: something odd
`
	if buf.String() != want {
		t.Errorf("script:\n%s\nwant:\n%s", buf.String(), want)
	}
}
