package container

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/internal/narrate"
)

// What a --log-format script needs beyond the narration of the steps: the
// values that vary between runs as variables (the container's id, the
// state and data roots: set ROOT and DATA before running the script to
// replay it elsewhere), and a stand-in for the init, which is mydocker's own
// process. The stand-in is a shell started in the same new namespaces that
// waits on a fifo, as the init waits on its pipe; the script's nsenter
// steps build its root filesystem, and the go signal, a line written to
// the fifo, lets it exec the command, as pid 1.

// scriptVars are the variables of a container's script.
func (r *Runtime) scriptVars(id string) [][2]string {
	return [][2]string{{"ROOT", r.Paths.Root}, {"DATA", r.Paths.DataRoot}, {"ID", id}}
}

// letContainer sets the variables of c's script, $PID included while it
// runs, for a verb that acts on an existing container (stop, rm).
func (r *Runtime) letContainer(c *Config) {
	letAll(r.K, r.scriptVars(c.ID))
	if c.Pid != 0 {
		r.K.Let("PID", strconv.Itoa(c.Pid))
	}
}

// letAll makes each variable stand for its value in k's script.
func letAll(k interface{ Let(name, value string) }, vars [][2]string) {
	for _, v := range vars {
		k.Let(v[0], v[1])
	}
}

// goFifo is where a script's stand-in waits for the go signal.
func goFifo(s *initSpec) string { return filepath.Join(s.StateDir, "go") }

// standIn is the script that starts the init's stand-in with the
// namespaces of unshare (its argv up to --fork) and sets $PID to its pid.
func standIn(unshare []string, s *initSpec, detached bool) string {
	ex := newExecOp(s)
	argv := append(append([]string{}, unshare...), "env", "-C", "/", "-i")
	argv = append(argv, s.Env...)
	// The command as given: sh finds it on the container's PATH, as the
	// init does, and so passes the same argv[0].
	argv = append(argv, "sh", "-c", `read -r go <&3 && cd "$0" && exec "$@" 3<&-`, ex.wd())
	argv = append(argv, s.Cmd...)
	redirect := "</dev/null"
	if detached {
		redirect += " >>" + narrate.Quote(filepath.Join(s.StateDir, "container.log")) + " 2>&1"
	}
	fifo := narrate.Quote(goFifo(s))
	return strings.Join([]string{
		"# the init's stand-in: a shell in the same new namespaces, waiting for the go signal on a fifo",
		"mkfifo " + fifo,
		narrate.Quote(argv...) + " 3<>" + fifo + " " + redirect + " &",
		"STANDIN=$!",
		`until PID=$(cat /proc/$STANDIN/task/$STANDIN/children 2>/dev/null) && [ -n "$PID" ]; do sleep 0.01; done`,
		`PID=${PID% }`,
	}, "\n")
}

// goScript is the script's go signal: the stand-in execs the command.
func goScript(s *initSpec) string {
	fifo := narrate.Quote(goFifo(s))
	return "echo go >" + fifo + " && rm -f " + fifo
}
