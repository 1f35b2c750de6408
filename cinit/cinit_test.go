package cinit

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// cinit.h and this package must agree on every number of the format: a
// mismatch would have the init do another step than the one narrated.
func TestConstantsMatch(t *testing.T) {
	f, err := os.Open("cinit.h")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[0] != "#define" || strings.HasPrefix(fields[2], "\"") || strings.HasPrefix(fields[2], "(") {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSuffix(fields[2], "U"), 0, 64)
		if err != nil {
			t.Fatalf("cinit.h: %s: %v", sc.Text(), err)
		}
		c[fields[1]] = v
	}
	want := map[string]uint64{
		"CINIT_MAGIC": magic, "CINIT_MAX_ARGS": MaxArgs, "CINIT_MAX_GROUPS": MaxGroups, "CINIT_FLAG_NARRATED": FlagNarrated,
		"CINIT_OP_NOP": opNop, "CINIT_OP_MOUNT": opMount, "CINIT_OP_MOUNT_POINT": opMountPoint, "CINIT_OP_MKNOD": opMknod,
		"CINIT_OP_SYMLINK": opSymlink, "CINIT_OP_PIVOT_ROOT": opPivotRoot, "CINIT_OP_HOSTNAME": opHostname,
		"CINIT_OP_AWAIT": opAwait, "CINIT_OP_UNSHARE": opUnshare, "CINIT_OP_CONSOLE": opConsole,
		"CINIT_OP_NO_NEW_PRIVS": opNoNewPrivs, "CINIT_OP_SECCOMP": opSeccomp, "CINIT_OP_PRIVILEGES": opPrivileges,
		"CINIT_OP_PARENT": opParent, "CINIT_OP_EXEC": opExec,
		"CINIT_FAILED": Failed, "CINIT_EXEC_NEXT": ExecNext, "CINIT_PARENT_DO": ParentDo, "CINIT_REACHED": Reached,
		"CINIT_BAD_PROGRAM": uint64(DetailBadProgram), "CINIT_PARENT_GONE": uint64(DetailParentGone),
		"CINIT_UNEXPECTED": uint64(DetailUnexpected), "CINIT_OPEN": uint64(DetailOpen), "CINIT_MKNOD": uint64(DetailMknod),
		"CINIT_CHMOD": uint64(DetailChmod), "CINIT_CHOWN": uint64(DetailChown), "CINIT_CHDIR": uint64(DetailChdir),
		"CINIT_PIVOT": uint64(DetailPivot), "CINIT_UMOUNT": uint64(DetailUmount), "CINIT_CHDIR_ROOT": uint64(DetailChdirRoot),
		"CINIT_PTMX": uint64(DetailPtmx), "CINIT_UNLOCKPT": uint64(DetailUnlockpt), "CINIT_PTN": uint64(DetailPtn),
		"CINIT_SETSID": uint64(DetailSetsid), "CINIT_SCTTY": uint64(DetailSctty), "CINIT_DUP": uint64(DetailDup),
		"CINIT_SEND": uint64(DetailSend), "CINIT_KEEPCAPS": uint64(DetailKeepcaps), "CINIT_SETGROUPS": uint64(DetailSetgroups),
		"CINIT_SETRESGID": uint64(DetailSetresgid), "CINIT_SETRESUID": uint64(DetailSetresuid),
		"CINIT_KEEPCAPS_OFF": uint64(DetailKeepcapsOff), "CINIT_AMBIENT": uint64(DetailAmbient), "CINIT_CAPSET": uint64(DetailCapset),
		"CINIT_CHDIR_WD": uint64(DetailChdirWd), "CINIT_NOT_EXECUTABLE": uint64(DetailNotExecutable),
		"CINIT_NO_SUCH_FILE": uint64(DetailNoSuchFile), "CINIT_NOT_IN_PATH": uint64(DetailNotInPath),
		"CINIT_EXECVE": uint64(DetailExecve), "CINIT_CAPBSET_DROP": uint64(DetailCapbsetDrop), "CINIT_SLAVE": uint64(DetailSlave),
	}
	for name, v := range want {
		got, ok := c[name]
		if !ok {
			t.Errorf("cinit.h has no %s", name)
		} else if got != v {
			t.Errorf("cinit.h: %s = %#x, Go has %#x", name, got, v)
		}
	}
	for name := range c {
		if _, ok := want[name]; !ok && name != "CINIT_MAX_PROGRAM" && name != "PATH_MAX_CINIT" && name != "MYDOCKER_CINIT_H" {
			t.Errorf("cinit.h's %s is not compared with the Go side", name)
		}
	}
	if c["CINIT_MAX_PROGRAM"] != maxProgram {
		t.Errorf("cinit.h: CINIT_MAX_PROGRAM = %d, Go has %d", c["CINIT_MAX_PROGRAM"], maxProgram)
	}
}
