package procfs

import (
	"os"
	"os/exec"
	"testing"
)

func TestAliveTellsAReusedPid(t *testing.T) {
	start, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(os.Getpid(), start) {
		t.Error("this process is not alive")
	}
	if Alive(os.Getpid(), start+1) {
		t.Error("another start time counts as the same process")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid, start) {
		t.Error("an exited process is alive")
	}
	if _, _, err := Stat(0); err == nil {
		t.Error("pid 0 has a stat")
	}
}
